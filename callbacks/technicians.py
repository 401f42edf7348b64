"""The technician state machine; the only place a technician's state is written.

offline -> available -> offered (being rung) -> on_call -> wrap_up -> available,
and away/offline from anywhere a person can leave. Every transition is a
compare-and-set on the old state, so a late or replayed webhook cannot move a
technician who has already moved on.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Technician, utcnow
from app.models import TechnicianState as S
from app.sql import compare_and_set

#: Which states a person (CLI, console, manager) may move a technician to, and from where.
MANUAL_TRANSITIONS = {
    S.AVAILABLE: (S.OFFLINE, S.AWAY, S.WRAP_UP, S.AVAILABLE),
    S.AWAY: (S.OFFLINE, S.AVAILABLE, S.WRAP_UP, S.AWAY),
    S.OFFLINE: (S.AVAILABLE, S.AWAY, S.WRAP_UP, S.OFFLINE),
}


def _move(technician_id: int, expected, new: S, **values) -> bool:
    return compare_and_set(Technician.state, technician_id, expected, state=new, state_since=utcnow(), **values)


def set_state(technician_id: int, new: str) -> bool:
    """A person's choice (available, away, offline). Refused while on a call or being rung."""
    target = S(new)
    if target not in MANUAL_TRANSITIONS:
        raise ValueError(f"a technician cannot be set to {new!r} by hand")
    values = {"missed_offers": 0} if target is S.AVAILABLE else {}
    return _move(technician_id, MANUAL_TRANSITIONS[target], target, wrap_up_until=None, **values)


def offer(technician_id: int) -> bool:
    """Claim an available technician for one callback offer."""
    return _move(technician_id, S.AVAILABLE, S.OFFERED)


def accept(technician_id: int) -> bool:
    """The technician pressed 1: they are now on the call."""
    return _move(technician_id, S.OFFERED, S.ON_CALL, missed_offers=0)


def release(technician_id: int) -> bool:
    """Back to available without counting a miss (skipped, or the provider failed)."""
    return _move(technician_id, (S.OFFERED, S.ON_CALL), S.AVAILABLE)


def missed(technician_id: int) -> bool:
    """The offer rang out: count it; after too many in a row the technician is set away."""
    technician = db.session.get(Technician, technician_id)
    if technician is None:
        return False
    misses = technician.missed_offers + 1
    new = S.AWAY if misses >= current_app.config["MAX_MISSED_OFFERS"] else S.AVAILABLE
    return _move(technician_id, S.OFFERED, new, missed_offers=misses)


def start_wrap_up(technician_id: int) -> bool:
    """After a customer call: time to write notes before the next offer."""
    until = utcnow() + timedelta(seconds=current_app.config["WRAP_UP_SECONDS"])
    return _move(technician_id, (S.ON_CALL, S.OFFERED), S.WRAP_UP, wrap_up_until=until)


def end_wrap_ups(now: datetime | None = None) -> list[int]:
    """Make available every technician whose wrap-up time is over; returns their ids."""
    due = db.session.scalars(
        select(Technician.id).where(Technician.state == S.WRAP_UP, Technician.wrap_up_until <= (now or utcnow()))
    ).all()
    return [tid for tid in due if _move(tid, S.WRAP_UP, S.AVAILABLE, wrap_up_until=None)]
