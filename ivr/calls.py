"""The inbound call row: who is calling and what they told the IVR so far.

Every IVR step finds its call by the provider's CallSid, so steps are
stateless in the web process and a replayed webhook sees the same row.
"""

import logging
from functools import cache

from flask import current_app
from sqlalchemy import Insert, Row, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from werkzeug.datastructures import MultiDict

from app import messages, phone
from app.clock import utcnow
from app.directory import contacts
from app.extensions import db
from app.models import Call, Company, Contact, ContactPhone, Ticket
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
    """The call this webhook belongs to, created on first sight.

    Found (or created) by SQLAlchemy Core outside the session's transaction, one autocommitted
    statement each: most steps only read the call, and a transaction of their own would cost
    BEGIN and ROLLBACK round trips on PostgreSQL. The row is then handed to the session as a
    loaded object, so a step that changes the call writes it as before.
    """
    sid = form.get("CallSid", "")[:64]
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # The provider's first webhook of a call says CallStatus=ringing, the later ones in-progress
        # (https://www.twilio.com/docs/usage/webhooks/voice-webhooks): a ringing call is inserted
        # first and read only if it was there already (the webhook replayed, or delivered twice).
        ringing = form.get("CallStatus") == "ringing"
        row = None if ringing else connection.execute(FIND_CALL, {"sid": sid}).first()
        created = False
        if row is None:
            row = connection.execute(_insert_call(connection.dialect.name), _new_call(form, sid)).first()
            created = row is not None
            if row is None:
                row = connection.execute(FIND_CALL, {"sid": sid}).one()
    call = _in_session(row)
    if created:
        log.info("call %s from %s", sid, _who(call, call.contact))
    return call


#: The call row as one Core statement reads it (every column, in the model's names).
CALL_COLUMNS = tuple(Call.__table__.columns)
#: Built once: a statement's construction costs more than its cached compilation.
FIND_CALL = select(*CALL_COLUMNS).where(Call.sid == bindparam("sid"))


def _new_call(form: MultiDict, sid: str) -> dict[str, object]:
    """The parameters of ``_insert_call`` for the caller of this webhook."""
    raw_from = form.get("From", "")[:64]
    e164 = phone.normalise(raw_from, current_app.config["PHONE_REGION"])
    return {"sid": sid, "from_raw": raw_from, "e164": e164, "default_language": current_app.config["DEFAULT_LANGUAGE"]}


@cache
def _insert_call(dialect_name: str) -> Insert:
    """INSERT the new call, with its contact and language found in the same statement, unless it exists.

    The language is the contact's when the desk speaks it (as catalog.supported decides), else
    the default; a withheld number (e164 NULL) matches no contact.
    """
    # The same match as app.directory.contacts.contact_for_number: an active contact of an active company (or none).
    known = (
        select(Contact.id, Contact.language)
        .join(ContactPhone, ContactPhone.contact_id == Contact.id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(ContactPhone.e164 == bindparam("e164"), Contact.active, or_(Company.id.is_(None), Company.active))
    )
    contact_id = known.with_only_columns(Contact.id).limit(1).scalar_subquery()
    spoken = known.with_only_columns(Contact.language).where(Contact.language.in_(messages.LANGUAGES))
    language = func.coalesce(spoken.limit(1).scalar_subquery(), bindparam("default_language"))
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(Call).values(
        sid=bindparam("sid"),
        from_raw=bindparam("from_raw"),
        from_e164=bindparam("e164"),
        contact_id=contact_id,
        language=language,
    )
    return statement.on_conflict_do_nothing(index_elements=["sid"]).returning(*CALL_COLUMNS)


def _in_session(row: Row) -> Call:
    """The call as a loaded object of this request's session (the one it holds already, if any)."""
    session = db.session()
    known = session.identity_map.get(session.identity_key(Call, row.id))
    if known is not None:
        return known
    call = Call(**row._asdict())
    make_transient_to_detached(call)
    session.add(call)
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


def may_act_on(call: Call, ticket: Ticket) -> bool:
    """DESIGN §11: only the ticket's own caller or a contact of its company may act on a ticket.

    Ticket numbers follow a daily counter, so knowing one proves nothing; the caller ID is the
    only thing the desk has (a spoofed one is why the whisper says who was not verified).
    """
    number = call.from_e164
    if number is None:
        return False
    if number == ticket.caller_phone:
        return True
    company = ticket.customer_company
    people = select(ContactPhone.id).join(Contact).where(ContactPhone.e164 == number)
    if company is not None:
        people = people.where(Contact.company_id == company.id)
    elif ticket.contact_id is not None:
        people = people.where(Contact.id == ticket.contact_id)
    else:
        return False
    return db.session.scalars(people.limit(1)).first() is not None


def whisper_customer(ticket: Ticket, number: str | None, language: str) -> str:
    """Who the technician is told is waiting: the ticket's contact, else the number, and whether verified."""
    contact = ticket.contact
    if contact is not None:
        customer = f"{contact.name}, {contact.company.name}" if contact.company else contact.name
    elif number:
        customer = f"{catalog.text(language, 'whisper_unknown_customer')}, {phone.spoken(number)}"
    else:
        customer = catalog.text(language, "whisper_unknown_customer")
    if ticket.related_ticket_id is not None:
        customer = f"{customer}, {catalog.text(language, 'whisper_not_verified')}"
    return customer


def open_ticket(call: Call, related: Ticket | None = None) -> Ticket:
    """The call's ticket: a new one, or the existing ticket raised to the priority just given.

    ``related`` is a ticket the caller asked about without being one of its people: the new
    ticket names it, and the caller acts on the new one only.
    """
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
    if call.transcript:
        title = headline(call.transcript)
    elif related is not None:
        title = messages.text(call.language, "ticket_title_related", ticket=related.number)
    else:
        title = messages.text(call.language, "ticket_title")
    ticket = store.create(
        origin_call_sid=call.sid,
        title=title,
        related_ticket_id=related.id if related is not None else None,
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
