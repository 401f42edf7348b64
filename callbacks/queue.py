"""The callback queue: priority first, then the time a callback was first queued.

The order is a SQL ``ORDER BY`` over the callback table, never a Redis list, so
a flushed Redis or a restarted worker cannot lose anyone's place.
"""

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import OPEN_CALLBACK_STATUSES, Callback, CallbackStatus, Ticket, utcnow

QUEUE_ORDER = (Callback.priority, Callback.queued_at, Callback.id)


def waiting() -> list[Callback]:
    """Every waiting callback, in queue order."""
    return list(
        db.session.scalars(select(Callback).where(Callback.status == CallbackStatus.WAITING).order_by(*QUEUE_ORDER))
    )


def next_due_statement():
    """The first waiting callback that may be offered now (retries wait for their due time)."""
    return (
        select(Callback)
        .where(Callback.status == CallbackStatus.WAITING, Callback.due_at <= utcnow())
        .order_by(*QUEUE_ORDER)
        .limit(1)
    )


def position(callback: Callback) -> int:
    """1 for the next caller to be called back; counts waiting callbacks ahead of this one."""
    ahead = or_(
        Callback.priority < callback.priority,
        and_(Callback.priority == callback.priority, Callback.queued_at < callback.queued_at),
        and_(
            Callback.priority == callback.priority, Callback.queued_at == callback.queued_at, Callback.id < callback.id
        ),
    )
    count = db.session.scalar(
        select(func.count()).select_from(Callback).where(Callback.status == CallbackStatus.WAITING, ahead)
    )
    return count + 1


def open_callback_for(phone: str) -> Callback | None:
    return db.session.scalars(
        select(Callback).where(Callback.phone == phone, Callback.status.in_(OPEN_CALLBACK_STATUSES))
    ).first()


def queue_callback(
    ticket: Ticket, phone: str, priority: int, language: str, due_at: datetime | None = None
) -> tuple[Callback, bool]:
    """Put a caller in the queue; returns (callback, created).

    One caller, one callback: a number that already has an open callback keeps
    it and its place, and only its priority may go up. ``due_at`` holds a
    callback back (taken while the desk is closed: due at the next opening).
    """
    existing = open_callback_for(phone)
    if existing is None:
        callback = Callback(
            ticket_id=ticket.id, phone=phone, priority=priority, language=language, due_at=due_at or utcnow()
        )
        db.session.add(callback)
        try:
            db.session.commit()
            return callback, True
        except IntegrityError:
            # Another call from the same number queued first (the partial unique index).
            db.session.rollback()
            existing = open_callback_for(phone)
            if existing is None:
                raise
    if priority < existing.priority:
        existing.priority = priority
        db.session.commit()
    return existing, False


def reprioritise(callback_id: int, priority: int) -> bool:
    """A manager's change of priority; the callback keeps its first-queued time.

    Only an open callback can change; returns False otherwise.
    """
    if not 1 <= priority <= 4:
        raise ValueError("priority is 1 (highest) to 4")
    statement = (
        update(Callback)
        .where(Callback.id == callback_id, Callback.status.in_(OPEN_CALLBACK_STATUSES))
        .values(priority=priority)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1
