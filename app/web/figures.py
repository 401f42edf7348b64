"""Today's figures for the board: volumes, time-to-callback, targets, the queue through the day.

"Today" is the desk's day in Europe/Brussels. Definitions (docs/board.md):

- **queued**: callbacks that joined the queue today;
- **time-to-callback** of a completed callback: from joining the queue until the
  customer answered the call that reached them (the connected attempt's end
  minus its talk time); median and p90 (nearest rank) per priority, over the
  callbacks completed today;
- **within target**: the share of those whose time-to-callback is at most the
  priority's target (``CALLBACK_TARGET_MINUTES``);
- **unreachable** / **cancelled**: callbacks that ended so today;
- **abandoned**: inbound calls that ended today with no outcome (``Call.outcome``): the
  caller hung up before a callback was queued or kept, their ticket read back, or the call
  put through; **calls ended** is every inbound call that ended today;
- **refused** / **limited**: inbound calls today that offered only numbers the desk does not
  call back, or whose number had had its tickets for the hour (DESIGN §11);
- **queue length** at a moment: callbacks open then (queued, not yet ended);
- **CSAT**: the average survey rating (1-5) given today, from ``app.surveys.csat_summary``.
"""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from app.clock import day_start, utcnow
from app.extensions import db
from app.models import (
    CANCELLED_BY_CALLER,
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    CallOutcome,
    IncidentMember,
)
from app.surveys import csat_summary

PRIORITIES = (1, 2, 3, 4)
#: Upper bounds (minutes) of the time-to-callback distribution's bands; the last band is open.
DISTRIBUTION_BANDS = (5, 15, 30, 60, 120, 240)
#: Spacing of the queue-length chart's points.
QUEUE_SAMPLE_MINUTES = 10


def nearest_rank(values: list[float], share: float) -> float:
    """The smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class PriorityFigures:
    priority: int
    target_minutes: int
    completed: int
    median_minutes: float | None
    p90_minutes: float | None
    within_target: float | None  # 0..1, None when nothing completed


def times_to_callback(since: datetime) -> list[tuple[int, float]]:
    """(priority, minutes) of every callback completed since ``since``."""
    rows = db.session.execute(
        select(Callback.priority, Callback.queued_at, CallbackAttempt.ended_at, CallbackAttempt.talk_seconds)
        .join(CallbackAttempt, CallbackAttempt.callback_id == Callback.id)
        .where(
            Callback.status == CallbackStatus.COMPLETED,
            Callback.ended_at >= since,
            CallbackAttempt.outcome == AttemptOutcome.CONNECTED,
        )
    )
    result = []
    for priority, queued_at, ended_at, talk_seconds in rows:
        reached = ended_at - timedelta(seconds=talk_seconds or 0)
        result.append((priority, max(0.0, (reached - queued_at).total_seconds() / 60)))
    return result


def per_priority(times: list[tuple[int, float]]) -> list[PriorityFigures]:
    targets = current_app.config["CALLBACK_TARGET_MINUTES"]
    figures = []
    for priority in PRIORITIES:
        minutes = [value for p, value in times if p == priority]
        target = targets.get(priority, 0)
        figures.append(
            PriorityFigures(
                priority=priority,
                target_minutes=target,
                completed=len(minutes),
                median_minutes=statistics.median(minutes) if minutes else None,
                p90_minutes=nearest_rank(minutes, 0.9) if minutes else None,
                within_target=sum(value <= target for value in minutes) / len(minutes) if minutes else None,
            )
        )
    return figures


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(Callback).where(*conditions))


def inbound_calls(since: datetime) -> tuple[int, int]:
    """Inbound calls that ended since ``since``, and how many of them were abandoned (no outcome)."""
    ended, abandoned = db.session.execute(
        select(func.count(), func.count().filter(Call.outcome.is_(None))).where(Call.ended_at >= since)
    ).one()
    return ended, abandoned


def refused_calls(since: datetime) -> tuple[int, int]:
    """Inbound calls since ``since`` refused for their callback number, and refused by the hourly limit."""
    refused, limited = db.session.execute(
        select(
            func.count().filter(Call.outcome == CallOutcome.REFUSED_NUMBER),
            func.count().filter(Call.outcome == CallOutcome.LIMITED),
        ).where(Call.started_at >= since)
    ).one()
    return refused, limited


def day_figures(now: datetime | None = None) -> dict:
    """Everything the board's figures panel shows for today."""
    since = day_start(now)
    times = times_to_callback(since)
    calls_ended, abandoned = inbound_calls(since)
    refused, limited = refused_calls(since)
    return {
        "since": since,
        "queued": _count(Callback.queued_at >= since),
        "completed": len(times),
        "unreachable": _count(Callback.status == CallbackStatus.UNREACHABLE, Callback.ended_at >= since),
        "cancelled": _count(Callback.status == CallbackStatus.CANCELLED, Callback.ended_at >= since),
        "calls_ended": calls_ended,
        "abandoned": abandoned,
        "refused": refused,
        "limited": limited,
        "priorities": per_priority(times),
        "distribution": distribution([minutes for _, minutes in times]),
        "queue_length": queue_length_series(since, now or utcnow()),
        "csat": csat_summary(since),
        **caller_choices(since, now or utcnow()),
    }


def caller_choices(since: datetime, now: datetime) -> dict[str, int]:
    """What callers chose themselves today: joined an incident, moved or cancelled their callback; missed windows.

    A window is missed when it closed today before its callback was reached (nobody was free in time).
    """
    return {
        "joined_incident": db.session.scalar(
            select(func.count()).select_from(IncidentMember).where(IncidentMember.joined_at >= since)
        ),
        "moved_by_caller": db.session.scalar(
            select(func.coalesce(func.sum(Callback.moves), 0)).where(
                or_(Callback.queued_at >= since, Callback.ended_at.is_(None), Callback.ended_at >= since)
            )
        ),
        "cancelled_by_caller": _count(
            Callback.cancelled_by == CANCELLED_BY_CALLER,
            Callback.status == CallbackStatus.CANCELLED,
            Callback.ended_at >= since,
        ),
        "missed_windows": _count(
            Callback.window_ends_at >= since,
            Callback.window_ends_at <= now,
            or_(Callback.ended_at.is_(None), Callback.ended_at > Callback.window_ends_at),
        ),
    }


def distribution(minutes: list[float]) -> list[tuple[str, int]]:
    """How many callbacks fell in each time-to-callback band, labelled like "15-30 min"."""
    labels, lower = [], 0
    for upper in DISTRIBUTION_BANDS:
        labels.append((f"{lower}-{upper} min", lower, upper))
        lower = upper
    labels.append((f"> {lower} min", lower, math.inf))
    return [(label, sum(low <= value < high for value in minutes)) for label, low, high in labels]


def queue_length_series(since: datetime, now: datetime) -> list[tuple[datetime, int]]:
    """Open callbacks at every sample time from the day's first queued callback until now."""
    spans = db.session.execute(
        select(Callback.queued_at, Callback.ended_at).where(
            Callback.queued_at <= now, or_(Callback.ended_at.is_(None), Callback.ended_at >= since)
        )
    ).all()
    if not spans:
        return []
    step = timedelta(minutes=QUEUE_SAMPLE_MINUTES)
    first = max(since, min(queued for queued, _ in spans))
    # Samples on round ten minutes, so the chart's hour ticks fall on samples.
    moment = first.replace(second=0, microsecond=0) - timedelta(minutes=first.minute % QUEUE_SAMPLE_MINUTES)
    series = []
    while moment <= now:
        series.append((moment, sum(q <= moment and (e is None or e > moment) for q, e in spans)))
        moment += step
    series.append((now, sum(q <= now and (e is None or e > now) for q, e in spans)))
    return series
