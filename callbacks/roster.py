"""The desk's technicians as records: add, change, deactivate (the admin pages and the CLI).

Their working state (available, on a call, …) is callbacks/technicians.py; a deactivated
technician is set offline through it and can no longer go available (callbacks/manage.py).
"""

import logging

from flask import current_app
from sqlalchemy import select

from app import phone
from app.directory import InvalidRecord
from app.extensions import db
from app.models import Technician, TechnicianState
from callbacks import manage

log = logging.getLogger(__name__)

LANGUAGES = ("nl", "fr", "en")


def save_technician(technician: Technician | None, *, name: str, number: str, languages: list[str]) -> Technician:
    """Add (``technician`` None) or change a technician after checking the record, and commit."""
    name = name.strip()
    e164 = phone.normalise(number, current_app.config["PHONE_REGION"])
    languages = [language for language in LANGUAGES if language in languages]
    if not name:
        raise InvalidRecord("a technician needs a name")
    if e164 is None:
        raise InvalidRecord("%(number)r is not a valid phone number", number=number.strip())
    if not languages:
        raise InvalidRecord("a technician speaks at least one of nl, fr, en")
    holder = db.session.scalars(select(Technician).where(Technician.phone == e164)).first()
    if holder is not None and holder is not technician:
        raise InvalidRecord(
            "%(number)s is already the number of %(owner)s", number=phone.display(e164), owner=holder.name
        )
    if technician is None:
        technician = Technician(state=TechnicianState.OFFLINE)
        db.session.add(technician)
    technician.name, technician.phone, technician.languages = name[:200], e164, ",".join(languages)
    db.session.commit()
    return technician


def set_active(technician_id: int, active: bool) -> Technician:
    """Deactivate (set offline first; refused while rung or on a call) or reactivate, offline, a technician."""
    technician = db.session.get(Technician, technician_id)
    if technician is None:
        raise manage.NotFound("There is no technician %(id)s.", id=technician_id)
    if not active and technician.state != TechnicianState.OFFLINE:
        manage.set_technician_state(technician.id, TechnicianState.OFFLINE)
    technician.active = active
    db.session.commit()
    log.info("technician %s %s", technician.name, "reactivated" if active else "deactivated")
    return technician
