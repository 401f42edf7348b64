"""The callback queue: priority first, then the time a callback was first queued.

The order is a SQL ``ORDER BY`` over the callback table, never a Redis list, so
a flushed Redis or a restarted worker cannot lose anyone's place. With aging
on (``AGING_MINUTES``), a callback that has waited past its priority's target
sorts one level higher; its stored priority does not change.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, case, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.extensions import db
from app.models import OPEN_CALLBACK_STATUSES, Callback, CallbackStatus, Ticket
from callbacks import limits

log = logging.getLogger(__name__)


def aged_priority(priority: int, queued_at: datetime, now: datetime) -> int:
    """The priority a callback sorts at: one level up once it has waited past its target."""
    minutes = current_app.config["AGING_MINUTES"].get(priority)
    if priority > 1 and minutes is not None and queued_at <= now - timedelta(minutes=minutes):
        return priority - 1
    return priority


def sort_priority(now: datetime) -> ColumnElement[int]:
    """``aged_priority`` in SQL; the plain priority column when aging is off (the index serves it)."""
    targets = {p: m for p, m in current_app.config["AGING_MINUTES"].items() if p > 1}
    if not targets:
        return Callback.priority
    aged = [
        (and_(Callback.priority == p, Callback.queued_at <= now - timedelta(minutes=m)), p - 1)
        for p, m in sorted(targets.items())
    ]
    return case(*aged, else_=Callback.priority)


#: Within a priority a callback scheduled for a window goes first (it is only due once its window opens).
SCHEDULED_FIRST = case((Callback.scheduled_for.is_not(None), 0), else_=1)


def queue_order(now: datetime) -> tuple[ColumnElement, ...]:
    return sort_priority(now), SCHEDULED_FIRST, Callback.queued_at, Callback.id


def not_yet_open(now: datetime) -> ColumnElement[bool]:
    """Callbacks waiting for a window that has not opened: not in the queue yet, so ahead of nobody."""
    return and_(Callback.scheduled_for.is_not(None), Callback.scheduled_for > now)


def waiting() -> list[Callback]:
    """Every waiting callback, in queue order."""
    statement = select(Callback).where(Callback.status == CallbackStatus.WAITING).order_by(*queue_order(utcnow()))
    return list(db.session.scalars(statement))


def _due(columns, eligible: ColumnElement[bool] | None, passed_over: list[int] | None, limit: int) -> Select:
    now = utcnow()
    statement = select(*columns).where(Callback.status == CallbackStatus.WAITING, Callback.due_at <= now)
    if eligible is not None:
        statement = statement.where(eligible)
    if passed_over:
        statement = statement.where(Callback.id.not_in(passed_over))
    return statement.order_by(*queue_order(now)).limit(limit)


def due_candidates_statement(
    eligible: ColumnElement[bool], passed_over: list[int], limit: int, *extra: ColumnElement
) -> Select:
    """(id, language, queued_at, *extra) of the first ``limit`` due callbacks, in queue order, for a dispatch batch.

    ``eligible`` narrows them to callbacks a free technician may take (language);
    ``passed_over`` leaves out callbacks this dispatch run found nobody for.
    """
    return _due((Callback.id, Callback.language, Callback.queued_at, *extra), eligible, passed_over, limit)


def position(callback: Callback) -> int:
    """1 for the next caller to be called back; counts waiting callbacks ahead of this one.

    Retries not yet due count too: they hold their place while they wait. Callbacks
    scheduled for a window that has not opened do not: they join the queue when it opens.
    """
    now = utcnow()
    scheduled = 0 if callback.scheduled_for is not None else 1
    mine = (aged_priority(callback.priority, callback.queued_at, now), scheduled, callback.queued_at, callback.id)
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Callback)
        .where(
            Callback.status == CallbackStatus.WAITING,
            tuple_(*queue_order(now)) < tuple_(*mine),
            ~not_yet_open(now),
        )
    )
    return ahead + 1


def promise_kept(ticket: Ticket, call_sid: str) -> Callback | None:
    """The callback this very call was promised and already had (completed or unreachable), if any.

    A ticket the call opened holds callbacks of this call only: the safe path may
    have queued one while another copy of the same webhook went on (the provider
    retried it, or sent it twice), and the callback may be over by the time the
    caller reaches the end of the menu. That promise is kept; no second one.
    """
    if ticket.origin_call_sid is None or ticket.origin_call_sid != call_sid:
        return None
    return db.session.scalars(
        select(Callback)
        .where(
            Callback.ticket_id == ticket.id,
            Callback.status.in_((CallbackStatus.COMPLETED, CallbackStatus.UNREACHABLE)),
        )
        .order_by(Callback.id)
    ).first()


def open_callback_for(phone: str) -> Callback | None:
    return db.session.scalars(
        select(Callback).where(Callback.phone == phone, Callback.status.in_(OPEN_CALLBACK_STATUSES))
    ).first()


class RefusedNumber(ValueError):
    """The number is premium-rate, shared-cost, of another country…: the desk does not call it."""


def queue_callback(
    ticket: Ticket, phone: str, priority: int, language: str, due_at: datetime | None = None
) -> tuple[Callback, bool]:
    """Put a caller in the queue; returns (callback, created).

    One caller, one callback: a number that already has an open callback keeps
    it and its place, and only its priority may go up. ``due_at`` holds a
    callback back (taken while the desk is closed: due at the next opening).
    A number outside the callback-number policy is never queued (RefusedNumber).
    """
    refused = limits.callback_refusal(phone)
    if refused is not None:
        raise RefusedNumber(f"{phone} is not a number the desk calls back ({refused})")
    existing = open_callback_for(phone)
    if existing is None:
        callback = Callback(
            ticket_id=ticket.id, phone=phone, priority=priority, language=language, due_at=due_at or utcnow()
        )
        db.session.add(callback)
        try:
            db.session.commit()
            log.info("callback %s queued: P%s, %s, ticket %s", callback.id, priority, phone, ticket.number)
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


def scheduled_opening(since: datetime, until: datetime, priority: int) -> int:
    """Waiting callbacks of ``priority`` or higher whose window opens between ``since`` and ``until``.

    They will go before an unscheduled caller of their priority: a wait estimate counts them.
    """
    return db.session.scalar(
        select(func.count())
        .select_from(Callback)
        .where(
            Callback.status == CallbackStatus.WAITING,
            Callback.priority <= priority,
            Callback.scheduled_for > since,
            Callback.scheduled_for <= until,
        )
    )


def schedule(callback_id: int, start: datetime, end: datetime) -> bool:
    """Hold a waiting callback until its window (naive UTC) opens; it keeps its priority and first-queued time.

    A compare-and-set on "waiting": a callback being offered or called cannot be moved.
    """
    statement = (
        update(Callback)
        .where(Callback.id == callback_id, Callback.status == CallbackStatus.WAITING)
        .values(scheduled_for=start, window_ends_at=end, due_at=start)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


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
