"""The callback state machine; the only place a callback's status is written.

    waiting -> offered        a technician is claimed and rung (offer, offer_many)
    offered -> in_progress    the technician pressed 1 (start)
    offered -> waiting        missed, skipped, the provider failed (return_to_queue)
    in_progress -> waiting    customer not reached, a retry is due later (return_to_queue)
    in_progress -> completed  connected (complete)
    in_progress -> unreachable  not reached on the last attempt (give_up)
    waiting | offered -> cancelled  (cancel, cancel_offered)

Each transition is a compare-and-set on the old status, so a late or replayed
report cannot move a callback that has already moved on.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, exists, update

from app.clock import utcnow
from app.extensions import db
from app.models import AttemptStatus, Callback, CallbackAttempt
from app.models import CallbackStatus as S
from app.sql import compare_and_set

FINAL = (S.COMPLETED, S.UNREACHABLE, S.CANCELLED)


def _move(callback_id: int, expected, new: S, **values) -> bool:
    return compare_and_set(Callback.status, callback_id, expected, status=new, status_since=utcnow(), **values)


def offer(callback_id: int, technician_id: int | None) -> bool:
    """Claim a waiting callback for one technician."""
    return _move(callback_id, S.WAITING, S.OFFERED, technician_id=technician_id)


def offer_many(pairs: Sequence[tuple[int, int]]) -> bool:
    """Claim several waiting callbacks at once, each for its technician, all or none (a dispatch batch)."""
    technician = case(dict(pairs), value=Callback.id)
    statement = (
        update(Callback)
        .where(Callback.id.in_([callback_id for callback_id, _ in pairs]), Callback.status == S.WAITING)
        .values(status=S.OFFERED, status_since=utcnow(), technician_id=technician)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == len(pairs)


def start(callback_id: int) -> bool:
    """The technician accepted; the customer is being dialled."""
    return _move(callback_id, S.OFFERED, S.IN_PROGRESS)


def return_to_queue(callback_id: int, retry_after_seconds: int = 0, count_attempt: bool = False) -> bool:
    """Back to waiting at its original place (``queued_at`` is untouched)."""
    values = {"technician_id": None, "due_at": utcnow() + timedelta(seconds=retry_after_seconds)}
    if count_attempt:
        values["attempts"] = Callback.attempts + 1
    return _move(callback_id, (S.OFFERED, S.IN_PROGRESS), S.WAITING, **values)


def complete(callback_id: int) -> bool:
    return _move(callback_id, S.IN_PROGRESS, S.COMPLETED, ended_at=utcnow(), attempts=Callback.attempts + 1)


def give_up(callback_id: int, wrong_number: bool = False) -> bool:
    """The customer could not be reached after the last attempt (or the number reached someone else)."""
    return _move(
        callback_id,
        S.IN_PROGRESS,
        S.UNREACHABLE,
        ended_at=utcnow(),
        attempts=Callback.attempts + 1,
        wrong_number=wrong_number,
    )


def cancel(callback_id: int) -> bool:
    """Take a waiting callback out of the queue."""
    return _move(callback_id, S.WAITING, S.CANCELLED, ended_at=utcnow())


def cancel_offered(callback_id: int) -> bool:
    """Cancel a callback whose technician is being rung (the caller ends the offer's attempt)."""
    return _move(callback_id, S.OFFERED, S.CANCELLED, ended_at=utcnow())


def release_stuck(before: datetime) -> list[int]:
    """Put back in the queue every offered or in-progress callback with no open attempt.

    Cannot happen while every writer keeps to the transitions; this is the
    sweep's safety net. ``status_since < before`` is part of the UPDATE, so a
    callback claimed meanwhile (a new status_since) is left alone.
    """
    open_attempt = exists().where(
        CallbackAttempt.callback_id == Callback.id, CallbackAttempt.status != AttemptStatus.ENDED
    )
    statement = (
        update(Callback)
        .where(Callback.status.in_((S.OFFERED, S.IN_PROGRESS)), Callback.status_since < before, ~open_attempt)
        .values(status=S.WAITING, status_since=utcnow(), technician_id=None, due_at=utcnow())
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )
    return list(db.session.scalars(statement))
