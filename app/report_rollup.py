"""The reports' desk days and their daily rollup: what a finished day counted, kept so a year reads fast.

A desk day runs from midnight to midnight in Brussels (23 or 25 hours on a clock change). The
database turns each stored (naive UTC) timestamp into its desk day's number (days since
1970-01-01) by adding the desk's UTC offset, a short CASE over the range's clock changes.

Once a day is over, ``roll_up`` counts it into two tables: ``report_day`` (calls, abandoned in
the menu, tickets, callbacks queued per priority, unreachable) and ``report_callback_times``
(every time to callback of the callbacks completed that day, per priority, in whole
milliseconds, ascending — so a median or p90 over any range of days is exact, not estimated). The reports read
these rows for the days they hold and count the live rows for every other day (today, and any
day not rolled up yet). ``rollup_job`` (rq cron, hourly) rolls up every finished day not done
yet, from the first day with data, and counts the last ``REPORT_RECOUNT_DAYS`` finished days
again, so what changes shortly after midnight (a call that ends after it) is picked up;
``flask report-rollup --from DAY --to DAY`` counts any range again after older data changed.
"""

import bisect
import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Integer, and_, case, delete, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from app.clock import as_utc, local
from app.extensions import db
from app.models import (
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    ReportCallbackTimes,
    ReportDay,
    Ticket,
)
from app.queueing import job_context
from app.sql import epoch_seconds, minutes_between

log = logging.getLogger(__name__)

DAY_SECONDS = 86400
#: Day 0 of the database's day numbers, and the Monday that starts week 0.
EPOCH = date(1970, 1, 1)
EPOCH_MONDAY = date(1969, 12, 29)
#: The callback priorities, 1 the highest.
PRIORITIES = (1, 2, 3, 4)
#: Times to callback are kept in whole milliseconds: exact to well under the reports' 0.1 minute.
MS_PER_MINUTE = 60_000
#: Days rolled up per transaction when catching up.
CHUNK_DAYS = 31
#: The counts of ``report_day``, in the order of the reports' volumes table.
VOLUME_COLUMNS = (
    "calls",
    "abandoned",
    "tickets",
    "queued_p1",
    "queued_p2",
    "queued_p3",
    "queued_p4",
    "unreachable",
)


@dataclass(frozen=True)
class Period:
    """Desk days ``first`` to ``last`` (inclusive), split ``by`` day or week."""

    first: date
    last: date
    by: str = "day"

    @property
    def start(self) -> datetime:
        """The first day's midnight in Brussels, as stored (naive UTC)."""
        return midnight(self.first)

    @property
    def end(self) -> datetime:
        """The midnight after the last day, as stored (naive UTC); the range stops before it."""
        return midnight(self.last + timedelta(days=1))

    def period_keys(self) -> list[int]:
        """Every period's key (day or week number) in the range, empty ones included."""
        first, last = key_of(self.first, self.by), key_of(self.last, self.by)
        return list(range(first, last + 1))

    def label(self, key: int) -> date:
        """A period as people name it: the day, or the week's Monday."""
        return period_start(key, self.by)


def midnight(day: date) -> datetime:
    return as_utc(datetime(day.year, day.month, day.day, tzinfo=local().tzinfo))


def day_number(day: date) -> int:
    return (day - EPOCH).days


def key_of(day: date, by: str) -> int:
    number = day_number(day)
    return (number + 3) // 7 if by == "week" else number


def period_start(key: int, by: str) -> date:
    return EPOCH_MONDAY + timedelta(weeks=key) if by == "week" else EPOCH + timedelta(days=key)


@functools.cache
def utc_offsets(start: datetime, end: datetime) -> tuple[tuple[datetime, int], ...]:
    """The desk's UTC offset in seconds from ``start`` on, and again at each clock change before ``end``."""

    def offset(moment: datetime) -> int:
        return int(local(moment).utcoffset().total_seconds())

    segments = [(start, offset(start))]
    day = start
    while day < end:
        following = day + timedelta(days=1)
        if offset(following) != segments[-1][1]:
            # Clocks change on the hour: find the hour.
            hour = day
            while offset(hour) == segments[-1][1]:
                hour += timedelta(hours=1)
            segments.append((hour, offset(hour)))
        day = following
    return tuple(segments)


def local_seconds(column, period: Period) -> ColumnElement[int]:
    """Seconds since 1970 of a stored timestamp on the desk's clock, computed by the database."""
    segments = utc_offsets(period.start, period.end)
    if len(segments) == 1:
        shift = literal(segments[0][1], Integer)
    else:
        whens = [(column < segments[i + 1][0], literal(segments[i][1], Integer)) for i in range(len(segments) - 1)]
        shift = case(*whens, else_=literal(segments[-1][1], Integer))
    return epoch_seconds(column) + shift


def bucket(column, period: Period, by: str | None = None) -> ColumnElement[int]:
    """The key of the period a timestamp falls in: its desk day's number, its week's, or 0 for the whole range."""
    by = by or period.by
    if by == "all":
        return literal(0, Integer)
    day = local_seconds(column, period) // DAY_SECONDS
    return (day + 3) // 7 if by == "week" else day


def within(column, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def grouped(period: Period, column, *aggregates, where=(), by: str | None = None) -> dict[int, tuple]:
    """``aggregates`` per period key of ``column``, over the range."""
    key = bucket(column, period, by).label("key")
    statement = select(key, *aggregates).where(within(column, period), *where).group_by(key)
    return {row[0]: tuple(row[1:]) for row in db.session.execute(statement)}


def time_to_callback() -> ColumnElement[float]:
    """Minutes from joining the queue until the customer answered (the connected attempt's end minus its talk)."""
    minutes = (
        minutes_between(Callback.queued_at, CallbackAttempt.ended_at)
        - func.coalesce(CallbackAttempt.talk_seconds, 0) / 60.0
    )
    return case((minutes < 0, 0.0), else_=minutes)


def counted_volumes(first: date, last: date) -> dict[int, tuple[int, ...]]:
    """The volumes (``VOLUME_COLUMNS``) of each desk day from ``first`` to ``last``, counted from the live rows."""
    days = Period(first, last, "day")
    calls = grouped(
        days, Call.started_at, func.count(), func.count().filter(Call.ended_at.is_not(None), Call.outcome.is_(None))
    )
    tickets = grouped(days, Ticket.created_at, func.count())
    queued = grouped(days, Callback.queued_at, *(func.count().filter(Callback.priority == p) for p in PRIORITIES))
    unreachable = grouped(days, Callback.ended_at, func.count(), where=(Callback.status == CallbackStatus.UNREACHABLE,))
    return {
        key: (
            *calls.get(key, (0, 0)),
            *tickets.get(key, (0,)),
            *queued.get(key, (0,) * len(PRIORITIES)),
            *unreachable.get(key, (0,)),
        )
        for key in days.period_keys()
    }


def counted_times(first: date, last: date) -> dict[tuple[int, int], list[int]]:
    """Every time to callback (ascending, in milliseconds) per (desk day number, priority), from the live rows."""
    days = Period(first, last, "day")
    key = bucket(Callback.ended_at, days).label("key")
    minutes = time_to_callback().label("minutes")
    statement = (
        select(key, Callback.priority, minutes)
        .select_from(Callback)
        .join(CallbackAttempt, CallbackAttempt.callback_id == Callback.id)
        .where(
            Callback.status == CallbackStatus.COMPLETED,
            within(Callback.ended_at, days),
            CallbackAttempt.outcome == AttemptOutcome.CONNECTED,
        )
        .order_by(key, Callback.priority, minutes)
    )
    found: dict[tuple[int, int], list[float]] = {}
    for day, priority, value in db.session.execute(statement):
        found.setdefault((day, priority), []).append(round(float(value) * MS_PER_MINUTE))
    return found


def today() -> date:
    return local().date()


def roll_up(first: date, last: date) -> int:
    """Count the finished desk days ``first`` to ``last`` into the rollup again; returns the days written.

    Idempotent: a day's rows are replaced, in one transaction per ``CHUNK_DAYS``. Today and
    later days are never rolled up (they are still changing).
    """
    last = min(last, today() - timedelta(days=1))
    written = 0
    while first <= last:
        chunk_last = min(last, first + timedelta(days=CHUNK_DAYS - 1))
        for attempt in range(3):
            try:
                written += _replace(first, chunk_last)
                break
            except IntegrityError:
                # Another run wrote the same days between this one's DELETE and INSERT: count them again.
                db.session.rollback()
                if attempt == 2:
                    raise
        first = chunk_last + timedelta(days=1)
    return written


def _replace(first: date, last: date) -> int:
    """Count the days ``first`` to ``last`` and replace their rows, in one transaction."""
    volumes = counted_volumes(first, last)
    times = counted_times(first, last)
    dates = [period_start(key, "day") for key in volumes]
    db.session.execute(delete(ReportCallbackTimes).where(ReportCallbackTimes.day.in_(dates)))
    db.session.execute(delete(ReportDay).where(ReportDay.day.in_(dates)))
    db.session.execute(
        insert(ReportDay),
        [
            {"day": period_start(key, "day"), **dict(zip(VOLUME_COLUMNS, counts, strict=True))}
            for key, counts in volumes.items()
        ],
    )
    if times:
        db.session.execute(
            insert(ReportCallbackTimes),
            [
                {"day": period_start(key, "day"), "priority": priority, "milliseconds": milliseconds}
                for (key, priority), milliseconds in times.items()
            ],
        )
    db.session.commit()
    return len(dates)


def first_data_day() -> date | None:
    """The desk day of the oldest call, ticket or callback; None when the desk has none."""
    oldest = [
        db.session.scalar(select(func.min(column)))
        for column in (Call.started_at, Ticket.created_at, Callback.queued_at)
    ]
    oldest = [moment for moment in oldest if moment is not None]
    return local(min(oldest)).date() if oldest else None


def catch_up() -> int:
    """Roll up every finished day not rolled up yet, and the last ``REPORT_RECOUNT_DAYS`` again; returns the days."""
    first = first_data_day()
    yesterday = today() - timedelta(days=1)
    if first is None or first > yesterday:
        return 0
    done = set(db.session.scalars(select(ReportDay.day).where(ReportDay.day >= first)))
    recount_from = yesterday - timedelta(days=max(0, current_app.config["REPORT_RECOUNT_DAYS"]) - 1)
    due = [
        day
        for day in (first + timedelta(days=n) for n in range((yesterday - first).days + 1))
        if day not in done or day >= recount_from
    ]
    written = 0
    for run_first, run_last in runs(due):
        written += roll_up(run_first, run_last)
    return written


def runs(days: list[date]) -> list[tuple[date, date]]:
    """Ascending days as runs of consecutive days: (first, last) of each."""
    found: list[tuple[date, date]] = []
    for day in days:
        if found and found[-1][1] + timedelta(days=1) == day:
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


def rollup_job() -> str:
    """The cron job (callbacks/cron.py)."""
    with job_context():
        written = catch_up()
        log.info("report rollup: %d desk days counted", written)
        return f"{written} days"


def _rolled(first: date, last: date) -> set[date]:
    return set(db.session.scalars(select(ReportDay.day).where(ReportDay.day >= first, ReportDay.day <= last)))


def _missing_runs(first: date, last: date, rolled: set[date]) -> list[tuple[date, date]]:
    return runs(
        [first + timedelta(days=n) for n in range((last - first).days + 1) if first + timedelta(days=n) not in rolled]
    )


def day_volumes(first: date, last: date) -> dict[int, tuple[int, ...]]:
    """The volumes of each desk day from ``first`` to ``last``: from the rollup where it has the day, else live."""
    rolled = _rolled(first, last)
    found: dict[int, tuple[int, ...]] = {}
    if rolled:
        columns = [getattr(ReportDay, name) for name in VOLUME_COLUMNS]
        for day, *counts in db.session.execute(
            select(ReportDay.day, *columns).where(ReportDay.day >= first, ReportDay.day <= last)
        ):
            found[day_number(day)] = tuple(counts)
    for run_first, run_last in _missing_runs(first, last, rolled):
        found.update(counted_volumes(run_first, run_last))
    return found


def day_times(first: date, last: date) -> dict[tuple[int, int], list[int]]:
    """Every time to callback (ascending, in milliseconds) per (desk day number, priority): the rollup's, else live."""
    rolled = _rolled(first, last)
    found: dict[tuple[int, int], list[float]] = {}
    if rolled:
        for day, priority, milliseconds in db.session.execute(
            select(ReportCallbackTimes.day, ReportCallbackTimes.priority, ReportCallbackTimes.milliseconds).where(
                ReportCallbackTimes.day >= first, ReportCallbackTimes.day <= last
            )
        ):
            found[(day_number(day), priority)] = milliseconds
    for run_first, run_last in _missing_runs(first, last, rolled):
        found.update(counted_times(run_first, run_last))
    return found


@dataclass(frozen=True)
class Spread:
    """Times to callback of a group: how many, the median (mean of the middle two), p90 (nearest rank), on time."""

    count: int
    median: float
    p90: float
    within_target: float


def spread(milliseconds: list[int], on_time: int) -> Spread:
    """The figures (in minutes) of ascending ``milliseconds`` of which ``on_time`` were within their target."""
    n = len(milliseconds)
    middle = (milliseconds[(n - 1) // 2] + milliseconds[n // 2]) / 2
    return Spread(n, middle / MS_PER_MINUTE, milliseconds[(9 * n + 9) // 10 - 1] / MS_PER_MINUTE, on_time / n)


def within_target(milliseconds: list[int], target_minutes: float) -> int:
    """How many of the ascending ``milliseconds`` are within ``target_minutes``."""
    return bisect.bisect_right(milliseconds, target_minutes * MS_PER_MINUTE)
