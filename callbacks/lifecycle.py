"""The callback state machine; the only place a callback's status is written.

waiting -> offered -> in_progress -> completed, back to waiting after a failed
attempt, and the final states completed, unreachable and cancelled. Each
transition is a compare-and-set on the old status.
"""

from datetime import timedelta

from app.models import Callback, utcnow
from app.models import CallbackStatus as S
from app.sql import compare_and_set


def _move(callback_id: int, expected, new: S, **values) -> bool:
    return compare_and_set(Callback.status, callback_id, expected, status=new, status_since=utcnow(), **values)


def offer(callback_id: int, technician_id: int) -> bool:
    """Claim a waiting callback for one technician."""
    return _move(callback_id, S.WAITING, S.OFFERED, technician_id=technician_id)


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


def give_up(callback_id: int) -> bool:
    """The customer could not be reached after the last attempt."""
    return _move(callback_id, S.IN_PROGRESS, S.UNREACHABLE, ended_at=utcnow(), attempts=Callback.attempts + 1)


def cancel(callback_id: int) -> bool:
    return _move(callback_id, S.WAITING, S.CANCELLED, ended_at=utcnow())
