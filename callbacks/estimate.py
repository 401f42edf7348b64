"""How long a caller can expect to wait, said in bands rather than minutes.

The estimate is (callbacks ahead + 1) * recent handle time / technicians at
work. It is deliberately coarse: a caller hears "within 15 minutes", "half an
hour", "the hour", "today" or the next opening time, never a number we would
then miss by a minute.
"""

from datetime import timedelta
from statistics import median

from flask import current_app
from sqlalchemy import select

from app import clock, opening_hours
from app.clock import utcnow
from app.extensions import db
from app.models import AT_WORK, AttemptOutcome, Callback, CallbackAttempt, Technician
from callbacks.queue import scheduled_opening

#: Handle time assumed when there is no recent history (a call plus its wrap-up).
DEFAULT_HANDLE_MINUTES = 10.0
#: How far back handle times are taken from.
HISTORY = timedelta(days=7)
#: Minutes assumed ahead of a caller when no technician is at work.
NOBODY_AT_WORK_MINUTES = 60.0
BANDS = ((15, "wait_15"), (30, "wait_30"), (60, "wait_60"))


def handle_minutes() -> float:
    """Median minutes per connected callback over the last week, wrap-up included."""
    since = utcnow() - HISTORY
    talks = db.session.scalars(
        select(CallbackAttempt.talk_seconds)
        .where(CallbackAttempt.outcome == AttemptOutcome.CONNECTED, CallbackAttempt.ended_at >= since)
        .order_by(CallbackAttempt.id.desc())
        .limit(200)
    ).all()
    minutes = [talk / 60 for talk in talks if talk]
    if not minutes:
        return DEFAULT_HANDLE_MINUTES
    return median(minutes) + current_app.config["WRAP_UP_SECONDS"] / 60


def technicians_at_work() -> int:
    return len(db.session.scalars(select(Technician.id).where(Technician.state.in_(AT_WORK))).all())


def wait_prompt(callback: Callback, position: int) -> str:
    """The catalog key of the band this caller falls in (``wait_next_opening`` when closed)."""
    now = utcnow()
    if callback.due_at > now or not opening_hours.is_open(now):
        return "wait_next_opening"
    working = technicians_at_work()
    # Nobody at work yet: promise no band tighter than "today".
    minutes = position * handle_minutes() / working if working else NOBODY_AT_WORK_MINUTES
    if working:
        # Callbacks whose chosen window opens meanwhile go first: they lengthen the wait.
        opening = scheduled_opening(now, now + timedelta(minutes=minutes), callback.priority)
        minutes = (position + opening) * handle_minutes() / working
    for limit, prompt in BANDS:
        if working and minutes <= limit:
            return prompt
    closing = opening_hours.closing_time(now)
    if closing is not None and clock.local(now) + timedelta(minutes=minutes) <= closing:
        return "wait_today"
    return "wait_next_opening"
