"""The inbound call row: who is calling and what they told the IVR so far.

Every IVR step finds its call by the provider's CallSid, so steps are
stateless in the web process and a replayed webhook sees the same row.
"""

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app import phone
from app.extensions import db
from app.models import Call, Contact, ContactPhone, utcnow
from ivr import catalog


def find_contact(e164: str | None) -> Contact | None:
    if e164 is None:
        return None
    return db.session.scalars(select(Contact).join(ContactPhone).where(ContactPhone.e164 == e164)).first()


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
    try:
        db.session.commit()
    except IntegrityError:
        # The provider delivered the first webhook twice at once.
        db.session.rollback()
        call = db.session.scalars(select(Call).where(Call.sid == sid)).one()
    return call


def call_ended(sid: str, status: str, duration: str | None) -> None:
    """The provider's final status for an inbound call."""
    call = db.session.scalars(select(Call).where(Call.sid == sid)).first()
    if call is None or call.ended_at is not None:
        return
    call.status = status[:20]
    call.ended_at = utcnow()
    call.duration_seconds = int(duration) if (duration or "").isdigit() else None
    db.session.commit()
