"""The technician state machine; the only place a technician's state is written.

    available -> offered        claimed for one callback and rung (offer, offer_many)
    offered -> on_call          pressed 1 (accept)
    offered -> available        skipped (skipped), or the offer was undone (release)
    offered -> available | away missed; away after MAX_MISSED_OFFERS in a row (missed)
    on_call -> wrap_up          after a connected call, for WRAP_UP_SECONDS (start_wrap_up)
    on_call -> available        the customer was not reached (release)
    wrap_up -> available        the wrap-up time is over (end_wrap_up, end_wrap_ups)
    offline | away | wrap_up | available -> available | away | offline   a person's choice (set_state)

Every transition is a compare-and-set on the old state, so a late or replayed
webhook cannot move a technician who has already moved on.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, exists, or_, select, update

from app.clock import utcnow
from app.extensions import db
from app.models import AttemptStatus, CallbackAttempt, Technician, UrgentRing
from app.models import TechnicianState as S
from app.sql import compare_and_set

#: Which states a person (CLI, console, manager) may move a technician to, and from where.
MANUAL_TRANSITIONS = {
    S.AVAILABLE: (S.OFFLINE, S.AWAY, S.WRAP_UP, S.AVAILABLE),
    S.AWAY: (S.OFFLINE, S.AVAILABLE, S.WRAP_UP, S.AWAY),
    S.OFFLINE: (S.AVAILABLE, S.AWAY, S.WRAP_UP, S.OFFLINE),
}


def _move(technician_id: int, expected, new, **values) -> bool:
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


def offer_many(technician_ids: Sequence[int]) -> bool:
    """Claim several available technicians at once, all or none: one compare-and-set for a dispatch batch."""
    statement = (
        update(Technician)
        .where(Technician.id.in_(technician_ids), Technician.state == S.AVAILABLE)
        .values(state=S.OFFERED, state_since=utcnow())
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == len(technician_ids)


def accept(technician_id: int) -> bool:
    """The technician pressed 1: they are now on the call."""
    return _move(technician_id, S.OFFERED, S.ON_CALL, missed_offers=0)


def release(technician_id: int) -> bool:
    """Back to available without counting a miss (the offer was undone, or the customer not reached)."""
    return _move(technician_id, (S.OFFERED, S.ON_CALL), S.AVAILABLE)


def skipped(technician_id: int) -> bool:
    """Pressed 2: they were there, so their run of missed offers ends."""
    return _move(technician_id, S.OFFERED, S.AVAILABLE, missed_offers=0)


def missed(technician_id: int) -> bool:
    """The offer rang out: count it; after too many in a row the technician is set away.

    One UPDATE computes the count and the new state, so no stale read can
    undercount a miss.
    """
    misses = Technician.missed_offers + 1
    new = case((misses >= current_app.config["MAX_MISSED_OFFERS"], S.AWAY.value), else_=S.AVAILABLE.value)
    return _move(technician_id, S.OFFERED, new, missed_offers=misses)


def start_wrap_up(technician_id: int) -> bool:
    """After a connected call: time to write notes before the next offer."""
    until = utcnow() + timedelta(seconds=current_app.config["WRAP_UP_SECONDS"])
    return _move(technician_id, (S.ON_CALL, S.OFFERED), S.WRAP_UP, wrap_up_until=until)


def end_wrap_up(technician_id: int, now: datetime | None = None) -> bool:
    """Available again once the wrap-up time is over (the wrap-up timer's job)."""
    statement = (
        update(Technician)
        .where(
            Technician.id == technician_id,
            Technician.state == S.WRAP_UP,
            or_(Technician.wrap_up_until.is_(None), Technician.wrap_up_until <= (now or utcnow())),
        )
        .values(state=S.AVAILABLE, state_since=utcnow(), wrap_up_until=None)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def end_wrap_ups(now: datetime | None = None) -> list[int]:
    """Make available every technician whose wrap-up time is over; returns their ids."""
    due = db.session.scalars(
        select(Technician.id).where(
            Technician.state == S.WRAP_UP,
            or_(Technician.wrap_up_until.is_(None), Technician.wrap_up_until <= (now or utcnow())),
        )
    ).all()
    return [technician_id for technician_id in due if end_wrap_up(technician_id, now)]


def free_stuck(before: datetime) -> list[int]:
    """Make available every technician rung or on a call with no open attempt since ``before``.

    Cannot happen while every writer keeps to the transitions; this is the
    sweep's safety net. ``state_since < before`` is part of the UPDATE, so a
    technician claimed meanwhile (a new state_since) is left alone.
    """
    open_attempt = exists().where(
        CallbackAttempt.technician_id == Technician.id, CallbackAttempt.status != AttemptStatus.ENDED
    )
    open_urgent_ring = exists().where(UrgentRing.technician_id == Technician.id, UrgentRing.ended_at.is_(None))
    statement = (
        update(Technician)
        .where(
            Technician.state.in_((S.OFFERED, S.ON_CALL)),
            Technician.state_since < before,
            ~open_attempt,
            ~open_urgent_ring,
        )
        .values(state=S.AVAILABLE, state_since=utcnow())
        .returning(Technician.id)
        .execution_options(synchronize_session=False)
    )
    return list(db.session.scalars(statement))
