"""The inbound call row: who is calling and what they told the IVR so far.

Every IVR step finds its call by the provider's CallSid, so steps are
stateless in the web process and a replayed webhook sees the same row.
"""

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app import messages, phone
from app.clock import utcnow
from app.directory import contacts
from app.extensions import db
from app.models import Call, Contact, Ticket
from app.tickets import ticket_store
from ivr import catalog
from ivr.urgency import priority_for

log = logging.getLogger(__name__)

#: Longest ticket title taken from a transcript.
TITLE_LENGTH = 80


def find_contact(e164: str | None) -> Contact | None:
    """The caller's contact in the directory, if they are a known (active) one."""
    return contacts.contact_for_number(e164)


def current_call(form: MultiDict) -> Call:
    """The call this webhook belongs to, created on first sight."""
    sid = form.get("CallSid", "")[:64]
    call = db.session.scalars(select(Call).where(Call.sid == sid)).first()
    if call is not None:
        return call
    raw_from = form.get("From", "")[:64]
    e164 = phone.normalise(raw_from, current_app.config["PHONE_REGION"])
    contact = find_contact(e164)
    default = current_app.config["DEFAULT_LANGUAGE"]
    language = catalog.supported(contact.language if contact else None, default)
    call = Call(sid=sid, from_raw=raw_from, from_e164=e164, contact=contact, language=language)
    db.session.add(call)
    # The new row holds exactly what was just written: keep it loaded instead of reading it back
    # after the commit (a quarter of the time of /voice/incoming, the hottest webhook, in bench/webhooks.py).
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except IntegrityError:
        # The provider delivered the first webhook twice at once.
        session.rollback()
        call = session.scalars(select(Call).where(Call.sid == sid)).one()
    finally:
        session.expire_on_commit = expire_on_commit
    log.info("call %s from %s", sid, _who(call, contact))
    return call


def _who(call: Call, contact: Contact | None) -> str:
    """The caller as a log line names them: "+32475987654 (Luc Lemaire)", or the withheld number as sent."""
    if call.from_e164 is None:
        return f"a withheld number ({call.from_raw or 'empty'})"
    return f"{call.from_e164} ({contact.name})" if contact is not None else call.from_e164


def call_ended(sid: str, status: str, duration: str | None) -> None:
    """The provider's final status for an inbound call."""
    call = db.session.scalars(select(Call).where(Call.sid == sid)).first()
    if call is None or call.ended_at is not None:
        return
    call.status = status[:20]
    call.ended_at = utcnow()
    call.duration_seconds = int(duration) if (duration or "").isdigit() else None
    db.session.commit()


def open_ticket(call: Call) -> Ticket:
    """The call's ticket: a new one, or the existing ticket raised to the priority just given."""
    priority = priority_for(call.urgency, call.impact)
    store = ticket_store()
    if call.ticket is not None:
        # Only what the caller just said can raise an existing ticket's priority.
        if call.urgency and call.impact and priority < call.ticket.priority:
            call.ticket.priority = priority
            store.add_note(
                call.ticket, f"Caller reports by phone: {call.urgency}, {call.impact}; priority P{priority}."
            )
        return call.ticket
    ticket = store.create(
        origin_call_sid=call.sid,
        title=headline(call.transcript) if call.transcript else messages.text(call.language, "ticket_title"),
        caller_phone=call.from_e164,
        contact_id=call.contact_id,
        company_id=call.contact.company_id if call.contact else None,
        priority=priority,
        urgency=call.urgency,
        impact=call.impact,
        recording_url=call.recording_url,
        description=call.transcript or "",
    )
    call.ticket_id = ticket.id
    db.session.commit()
    # The transcript may have landed while the ticket was being opened. Locking the call row
    # waits for a transcription webhook that is writing it, so one of the two always sees both.
    transcript = db.session.scalar(select(Call.transcript).where(Call.id == call.id).with_for_update())
    if transcript and not ticket.description:
        ticket.description, ticket.title = transcript, headline(transcript)
        store.details_changed(ticket)
    db.session.commit()
    return ticket


def headline(text: str) -> str:
    """A ticket title from what the caller said: the first words, cut at a word boundary."""
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"
