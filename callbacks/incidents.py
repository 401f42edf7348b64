"""Incidents: one outage, one ticket (DESIGN §10).

A manager declares an incident for one company or for everyone; the desk proposes
one when ``INCIDENT_CALLERS`` callers of one company report "several" or "whole
company" within ``INCIDENT_MINUTES``. Callers of that company hear it in the IVR
and may join it (no callback); queued callbacks may be merged into it from the
board. Joined callers get an SMS in their language on every update and on the
resolution. The incident's ticket is the parent; a merged caller's ticket is
linked to it (``problem_ticket_id``), with a note on both.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app import messages
from app.clock import utcnow
from app.extensions import db
from app.models import (
    Callback,
    CallbackStatus,
    Company,
    Incident,
    IncidentMember,
    IncidentStatus,
    IncidentUpdate,
    Ticket,
)
from app.notifications import queue_text
from app.tickets import ticket_store
from app.wording import Invalid
from callbacks import manage

log = logging.getLogger(__name__)

#: What callers report that makes an outage likely (the IVR's second urgency question).
WIDE_IMPACTS = ("several", "company")
#: Priority of an incident's own ticket: a whole company cannot work as it should.
INCIDENT_PRIORITY = 1


@dataclass(frozen=True)
class Proposal:
    """ "5 callers from Brouwerij De Klok in 10 minutes — declare an incident?"."""

    company_id: int
    company: str
    callers: int
    minutes: int


def _get(incident_id: int) -> Incident:
    incident = db.session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        raise manage.NotFound("There is no incident %(id)s.", id=incident_id)
    return incident


def _refuse_unless_open(incident: Incident) -> None:
    if incident.status != IncidentStatus.OPEN:
        raise manage.Refused("Incident %(id)s is already closed.", incident.status, id=incident.id)


def texts_per_language(text: str = "", **per_language: str | None) -> dict[str, str]:
    """One text for every language unless a language has its own (``nl=…``, ``fr=…``, ``en=…``)."""
    return {language: (per_language.get(language) or text).strip() for language in messages.LANGUAGES}


def open_incident(company_id: int | None, title: str, say: dict[str, str], by: str) -> Incident:
    """Declare an incident (``company_id`` None: for every caller) and open its ticket."""
    title = title.strip()[:200]
    if not title:
        raise Invalid("An incident needs a title.")
    if company_id is not None and db.session.get(Company, company_id) is None:
        raise manage.NotFound("There is no company %(id)s.", id=company_id)
    ticket = ticket_store().create(title=title, company_id=company_id, priority=INCIDENT_PRIORITY)
    incident = Incident(
        company_id=company_id,
        title=title,
        ticket_id=ticket.id,
        opened_by=by,
        **{f"say_{language}": say.get(language, "")[:500] for language in messages.LANGUAGES},
    )
    db.session.add(incident)
    db.session.commit()
    ticket_store().add_note(ticket, f"Incident {incident.id} declared by {by}: {title}.")
    log.info("incident %s opened by %s for %s: %s", incident.id, by, _whom(incident), title)
    return incident


def _whom(incident: Incident) -> str:
    return incident.company.name if incident.company is not None else "every caller"


def open_incidents() -> list[Incident]:
    return list(
        db.session.scalars(
            select(Incident).where(Incident.status == IncidentStatus.OPEN).order_by(Incident.opened_at, Incident.id)
        )
    )


def active_for(company_id: int | None) -> Incident | None:
    """The open incident a caller of this company hears: their company's own first, else one for everyone."""
    scope = Incident.company_id.is_(None)
    if company_id is not None:
        scope = or_(Incident.company_id == company_id, scope)
    return db.session.scalars(
        select(Incident)
        .where(Incident.status == IncidentStatus.OPEN, scope)
        .order_by(Incident.company_id.is_(None), Incident.opened_at.desc())
    ).first()


def join(incident_id: int, phone: str, language: str, name: str | None = None) -> bool:
    """A caller joins by phone: kept informed by SMS, no callback. False when they had joined already."""
    incident = _get(incident_id)
    _refuse_unless_open(incident)
    if not _add_member(incident, phone, language, via="phone"):
        return False
    who = f"{name} ({phone})" if name else phone
    ticket_store().add_note(incident.ticket, f"Caller {who} joined the incident by phone.")
    return True


def _add_member(incident: Incident, phone: str, language: str, via: str, ticket: Ticket | None = None) -> bool:
    """One member per caller and incident (the unique index settles a replayed webhook)."""
    language = messages.supported(language)
    db.session.add(IncidentMember(incident_id=incident.id, phone=phone, language=language, via=via, ticket=ticket))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    log.info("incident %s: %s joined (%s)", incident.id, phone, via)
    return True


def mergeable(incident: Incident) -> list[Callback]:
    """Waiting callbacks of the incident's company (of anyone, for an incident for everyone)."""
    statement = select(Callback).join(Ticket).where(Callback.status == CallbackStatus.WAITING)
    if incident.company_id is not None:
        statement = statement.where(Ticket.company_id == incident.company_id)
    return list(db.session.scalars(statement.order_by(Callback.queued_at, Callback.id)))


def merge(incident_id: int, callback_id: int, by: str) -> Callback:
    """Merge a queued callback into the incident: cancelled, its ticket linked, its caller informed by SMS."""
    incident = _get(incident_id)
    _refuse_unless_open(incident)
    callback = manage.cancel(callback_id, by=f"{by}, merged into incident {incident.id}")
    ticket = callback.ticket
    ticket.problem_ticket_id = incident.ticket_id
    db.session.commit()
    _add_member(incident, callback.phone, callback.language, via="merged", ticket=ticket)
    store = ticket_store()
    store.add_note(ticket, f"Linked to incident ticket {incident.ticket.number} ({incident.title}) by {by}.")
    store.add_note(incident.ticket, f"Ticket {ticket.number} ({callback.phone}) linked to this incident by {by}.")
    body = messages.text(callback.language, "incident_merged", ticket=ticket.number, title=incident.title)
    queue_text(callback.phone, body)
    return callback


def post_update(incident_id: int, texts: dict[str, str], by: str) -> IncidentUpdate:
    """Send an update to every joined caller, in their language."""
    incident = _get(incident_id)
    _refuse_unless_open(incident)
    return _announce(incident, texts, by, final=False)


def close(incident_id: int, texts: dict[str, str], by: str) -> Incident:
    """Resolve the incident: its callers told by SMS, its ticket and the linked ones resolved."""
    incident = _get(incident_id)
    _refuse_unless_open(incident)
    incident.status, incident.closed_at = IncidentStatus.CLOSED, utcnow()
    db.session.commit()
    _announce(incident, texts, by, final=True)
    store = ticket_store()
    for ticket in [incident.ticket, *_linked_tickets(incident)]:
        store.add_note(ticket, f"Incident {incident.id} resolved by {by}.")
        store.set_status(ticket, "resolved")
    log.info("incident %s closed by %s", incident.id, by)
    return incident


def _linked_tickets(incident: Incident) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(Ticket.problem_ticket_id == incident.ticket_id)))


def _announce(incident: Incident, texts: dict[str, str], by: str, final: bool) -> IncidentUpdate:
    if not final and not any(texts.values()):
        raise Invalid("An update needs a text.")
    update = IncidentUpdate(
        incident_id=incident.id, final=final, posted_by=by, **{f"text_{lang}": t for lang, t in texts.items()}
    )
    db.session.add(update)
    db.session.commit()
    key = "incident_resolved" if final else "incident_update"
    for member in incident.members:
        body = messages.text(member.language, key, title=incident.title, text=update.text(member.language)).strip()
        queue_text(member.phone, body)
    summary = texts.get("en") or next((t for t in texts.values() if t), "")
    ticket_store().add_note(
        incident.ticket,
        f"{'Resolution' if final else 'Update'} sent by {by} to {len(incident.members)} caller(s): {summary}",
    )
    return update


def proposals(now: datetime | None = None) -> list[Proposal]:
    """Companies with ``INCIDENT_CALLERS`` reports of a wide problem within ``INCIDENT_MINUTES`` and no incident."""
    now = now or utcnow()
    config = current_app.config
    if any(incident.company_id is None for incident in open_incidents()):
        return []
    covered = {incident.company_id for incident in open_incidents()}
    callers = func.count(func.distinct(Ticket.caller_phone))
    rows = db.session.execute(
        select(Ticket.company_id, Company.name, callers, func.min(Ticket.created_at))
        .join(Company, Company.id == Ticket.company_id)
        .where(
            Ticket.created_at >= now - timedelta(minutes=config["INCIDENT_MINUTES"]),
            Ticket.impact.in_(WIDE_IMPACTS),
            Ticket.problem_ticket_id.is_(None),
        )
        .group_by(Ticket.company_id, Company.name)
        .having(callers >= config["INCIDENT_CALLERS"])
    ).all()
    return [
        Proposal(company_id, name, count, max(1, round((now - first).total_seconds() / 60)))
        for company_id, name, count, first in rows
        if company_id not in covered
    ]
