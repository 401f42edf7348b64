"""The managers' reports: the desk over a date range, per day or week, per technician, per company.

Every figure is aggregated by the database (GROUP BY), never by looping over rows in Python;
Python only names the periods, fills the empty ones and pivots the few aggregated rows. The
volumes and the times to callback of finished days come from the daily rollup
(app/report_rollup.py: per-day counts, and each day's sorted times to callback, merged here
for exact medians and p90s), today's from the live rows. Days and weeks are the desk's
(Europe/Brussels, weeks from Monday): the database shifts each UTC timestamp by the desk's
UTC offset, which the range's few clock changes make a short CASE. Definitions: docs/reports.md.
"""

from dataclasses import dataclass, field
from datetime import date

from babel.dates import get_day_names
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from app.clock import local
from app.extensions import db
from app.models import (
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    Company,
    Contact,
    Survey,
    Technician,
    Ticket,
    UrgentStatus,
    UrgentTransfer,
)
from app.report_rollup import (
    DAY_SECONDS,
    Period,
    day_times,
    day_volumes,
    grouped,
    local_seconds,
    spread,
    within,
    within_target,
)
from app.web.figures import PRIORITIES
from app.web.filters import state_label

#: How the figures are split: per desk day, per week (Monday to Sunday), or the whole range.
SPLITS = ("day", "week")
#: Outcomes of an attempt at which the technician had accepted (pressed 1) and the customer was dialled.
ACCEPTED_OUTCOMES = (AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER, AttemptOutcome.BUSY, AttemptOutcome.FAILED)


@dataclass
class Table:
    """One table of the report, as the page shows it and the CSV export writes it."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[list] = field(default_factory=list)
    #: The rows under the line: the whole range (one per priority for the time to callback).
    totals: list[list] = field(default_factory=list)


def _sum_columns(rows: list[list]) -> list:
    return [sum(row[index] for row in rows) for index in range(1, len(rows[0]))] if rows else []


def _per_period(period: Period, per_day: dict[int, tuple]) -> dict[int, tuple]:
    """Per-day counts added up per period of ``period`` (a week: Monday to Sunday)."""
    found: dict[int, list] = {}
    for day, counts in per_day.items():
        key = (day + 3) // 7 if period.by == "week" else day
        total = found.setdefault(key, [0] * len(counts))
        for index, count in enumerate(counts):
            total[index] += count
    return {key: tuple(counts) for key, counts in found.items()}


def volumes(period: Period) -> Table:
    """Calls, abandoned in the menu, tickets, callbacks queued per priority, unreachable.

    Finished days come from the daily rollup (app/report_rollup.py), the rest from the live rows.
    """
    counts = _per_period(period, day_volumes(period.first, period.last))
    table = Table(
        "volumes",
        _l("Calls, tickets and callbacks"),
        (
            _l("period"),
            _l("calls"),
            _l("abandoned in menu"),
            _l("tickets"),
            *(_l("callbacks P%(priority)s", priority=p) for p in PRIORITIES),
            _l("unreachable"),
        ),
    )
    for key in period.period_keys():
        table.rows.append([period.label(key), *counts.get(key, (0,) * (len(table.columns) - 1))])
    table.totals = [[_l("total"), *_sum_columns(table.rows)]]
    return table


def attempts(period: Period) -> Table:
    """Attempts that ended in each period, by outcome."""
    outcomes = list(AttemptOutcome)
    counts = grouped(
        period, CallbackAttempt.ended_at, *(func.count().filter(CallbackAttempt.outcome == o) for o in outcomes)
    )
    table = Table("attempts", _l("Attempts by outcome"), (_l("period"), *(state_label(o) for o in outcomes)))
    for key in period.period_keys():
        table.rows.append([period.label(key), *counts.get(key, (0,) * len(outcomes))])
    table.totals = [[_l("total"), *_sum_columns(table.rows)]]
    return table


def urgent_transfers(period: Period) -> Table:
    """Urgent calls put through live: bridged to a technician, taken on call, or queued as a P1 callback."""
    counts = grouped(
        period,
        UrgentTransfer.started_at,
        func.count(),
        func.count().filter(UrgentTransfer.technician_id.is_not(None)),
        func.count().filter(UrgentTransfer.taken_by_oncall.is_(True)),
        func.count().filter(UrgentTransfer.status == UrgentStatus.QUEUED),
    )
    table = Table(
        "urgent", _l("Urgent transfers"), (_l("period"), _l("urgent calls"), _l("bridged"), _l("on call"), _l("queued"))
    )
    for key in period.period_keys():
        table.rows.append([period.label(key), *counts.get(key, (0, 0, 0, 0))])
    table.totals = [[_l("total"), *_sum_columns(table.rows)]]
    return table


def satisfaction(period: Period) -> Table:
    """Ratings given (and their average) per period; surveys sent and the share of those rated."""
    ratings = grouped(period, Survey.rated_at, func.count(), func.sum(Survey.rating))
    sent = grouped(period, Survey.sent_at, func.count(), func.count().filter(Survey.rating.is_not(None)))
    table = Table(
        "csat",
        _l("Customer satisfaction"),
        (_l("period"), _l("ratings"), _l("average"), _l("surveys sent"), _l("response rate")),
    )
    totals = [0, 0, 0, 0]
    for key in period.period_keys():
        rated, points = ratings.get(key, (0, 0))
        mailed, answered = sent.get(key, (0, 0))
        table.rows.append([period.label(key), rated, _ratio(points, rated), mailed, _ratio(answered, mailed)])
        totals = [totals[0] + rated, totals[1] + (points or 0), totals[2] + mailed, totals[3] + answered]
    table.totals = [[_l("total"), totals[0], _ratio(totals[1], totals[0]), totals[2], _ratio(totals[3], totals[2])]]
    return table


def _ratio(part, whole) -> float | None:
    return round(part / whole, 3) if whole else None


def callback_times(
    period: Period, by: str | None = None, per_priority: bool = True, times: dict | None = None
) -> list[tuple]:
    """(key, priority, completed, median, p90, within target) per period (and priority), in key order.

    The median is the middle value (the mean of the two middle ones for an even count); p90 the
    nearest rank, as on the board. ``per_priority=False`` pools the priorities (priority 0).
    They are exact: every time to callback of each day comes sorted, from the daily rollup for
    finished days (app/report_rollup.py) and from the live rows for the rest, and the days of a
    period are merged. ``times`` is what ``day_times`` gave, when the caller has it already.
    """
    by = by or period.by
    targets = current_app.config["CALLBACK_TARGET_MINUTES"]
    if times is None:
        times = day_times(period.first, period.last)
    groups: dict[tuple[int, int], list] = {}
    for (day, priority), milliseconds in times.items():
        key = 0 if by == "all" else (day + 3) // 7 if by == "week" else day
        group = groups.setdefault((key, priority if per_priority else 0), [[], 0])
        group[0].append(milliseconds)
        group[1] += within_target(milliseconds, targets.get(priority, 0))
    found = []
    for (key, priority), (runs, on_time) in sorted(groups.items()):
        merged = runs[0] if len(runs) == 1 else sorted(value for run in runs for value in run)
        figures = spread(merged, on_time)
        found.append((key, priority, figures.count, figures.median, figures.p90, figures.within_target))
    return found


def service_levels(period: Period) -> Table:
    """Time to callback per period and priority: completed, median, p90, share within target."""
    targets = current_app.config["CALLBACK_TARGET_MINUTES"]
    table = Table(
        "service",
        _l("Time to callback"),
        (
            _l("period"),
            _l("priority"),
            _l("called back"),
            _l("median (min)"),
            _l("p90 (min)"),
            _l("target (min)"),
            _l("within target"),
        ),
    )

    def row(label, priority: int, figures: tuple | None) -> list:
        completed, median, p90, on_time = figures or (0, None, None, None)
        return [label, priority, completed, _round(median), _round(p90), targets.get(priority, 0), _round(on_time, 3)]

    times = day_times(period.first, period.last)
    found = {(k, p): rest for k, p, *rest in callback_times(period, times=times)}
    for key in period.period_keys():
        for priority in PRIORITIES:
            if (key, priority) in found:
                table.rows.append(row(period.label(key), priority, found[(key, priority)]))
    overall = {p: rest for _, p, *rest in callback_times(period, by="all", times=times)}
    table.totals = [row(_l("total"), p, overall.get(p)) for p in PRIORITIES]
    return table


def _round(value: float | None, digits: int = 1) -> float | None:
    return round(float(value), digits) if value is not None else None


def technicians(period: Period) -> Table:
    """Per technician, over the attempts offered in the range: offers, accepted, skipped, missed, completed, talk."""
    outcome = CallbackAttempt.outcome
    statement = (
        select(
            Technician.name,
            func.count().filter(or_(outcome.is_(None), outcome != AttemptOutcome.NOT_RUNG)),
            func.count().filter(outcome.in_(ACCEPTED_OUTCOMES)),
            func.count().filter(outcome == AttemptOutcome.TECHNICIAN_SKIPPED),
            func.count().filter(outcome == AttemptOutcome.TECHNICIAN_MISSED),
            func.count().filter(outcome == AttemptOutcome.CONNECTED),
            func.coalesce(func.sum(CallbackAttempt.talk_seconds), 0),
        )
        .join(Technician, Technician.id == CallbackAttempt.technician_id)
        .where(within(CallbackAttempt.started_at, period))
        .group_by(Technician.id, Technician.name)
        .order_by(Technician.name)
    )
    table = Table(
        "technicians",
        _l("Technicians"),
        (
            _l("technician"),
            _l("offers"),
            _l("accepted"),
            _l("skipped"),
            _l("missed"),
            _l("callbacks completed"),
            _l("talk time (min)"),
        ),
    )
    for name, offers, accepted, skipped, missed, completed, talk in db.session.execute(statement):
        table.rows.append([name, offers, accepted, skipped, missed, completed, round(talk / 60, 1)])
    if table.rows:
        *counts, talk = _sum_columns(table.rows)
        table.totals = [[_l("total"), *counts, round(talk, 1)]]
    return table


def companies(period: Period) -> Table:
    """Per company: inbound calls from its contacts, and tickets for it (its own, else its contact's)."""
    calls = dict(
        db.session.execute(
            select(Contact.company_id, func.count())
            .select_from(Call)
            .join(Contact, Contact.id == Call.contact_id)
            .where(within(Call.started_at, period), Contact.company_id.is_not(None))
            .group_by(Contact.company_id)
        ).all()
    )
    contact = aliased(Contact)
    company_id = func.coalesce(Ticket.company_id, contact.company_id)
    tickets = dict(
        db.session.execute(
            select(company_id, func.count())
            .select_from(Ticket)
            .outerjoin(contact, contact.id == Ticket.contact_id)
            .where(within(Ticket.created_at, period), company_id.is_not(None))
            .group_by(company_id)
        ).all()
    )
    ids = set(calls) | set(tickets)
    names = dict(db.session.execute(select(Company.id, Company.name).where(Company.id.in_(ids))).all()) if ids else {}
    table = Table("companies", _l("Companies"), (_l("company"), _l("calls"), _l("tickets")))
    table.rows = sorted(
        ([names.get(i, ""), calls.get(i, 0), tickets.get(i, 0)] for i in ids), key=lambda r: (-r[1], -r[2], r[0])
    )
    if table.rows:
        table.totals = [[_l("total"), *_sum_columns(table.rows)]]
    return table


def comments(period: Period) -> Table:
    """The survey comments written in the range, newest first."""
    statement = (
        select(Survey.commented_at, Ticket.number, Survey.rating, Survey.comment)
        .join(Ticket, Ticket.id == Survey.ticket_id)
        .where(within(Survey.commented_at, period), Survey.comment.is_not(None))
        .order_by(Survey.commented_at.desc())
    )
    table = Table("comments", _l("Comments"), (_l("written"), _l("ticket"), _l("rating"), _l("comment")))
    for written, number, rating, text in db.session.execute(statement):
        table.rows.append([local(written), number, rating, text])
    return table


def heat_map(period: Period) -> Table:
    """Incoming calls per weekday (rows, Monday first) and hour of the desk's day (columns)."""
    seconds = local_seconds(Call.started_at, period)
    weekday = ((seconds // DAY_SECONDS + 3) % 7).label("weekday")
    hour = ((seconds % DAY_SECONDS) // 3600).label("hour")
    counts = db.session.execute(
        select(weekday, hour, func.count()).where(within(Call.started_at, period)).group_by(weekday, hour)
    ).all()
    grid = [[0] * 24 for _ in range(7)]
    for day, at, count in counts:
        grid[int(day)][int(at)] = count
    table = Table(
        "heatmap", _l("Incoming calls by hour and weekday"), (_l("weekday"), *(f"{h:02d}" for h in range(24)))
    )
    names = get_day_names("abbreviated", locale=get_locale() or "en")
    table.rows = [[names[index], *grid[index]] for index in range(7)]
    return table


def queue_length(period: Period) -> list[tuple[date, int]]:
    """Callbacks open at the end of each period: open at the start, plus queued, minus ended, running."""
    open_before = db.session.scalar(
        select(func.count())
        .select_from(Callback)
        .where(Callback.queued_at < period.start, or_(Callback.ended_at.is_(None), Callback.ended_at >= period.start))
    )
    queued = grouped(period, Callback.queued_at, func.count())
    ended = grouped(period, Callback.ended_at, func.count())
    series, running = [], open_before
    for key in period.period_keys():
        running += queued.get(key, (0,))[0] - ended.get(key, (0,))[0]
        series.append((period.label(key), running))
    return series


def median_times(period: Period) -> list[tuple[date, float | None]]:
    """The median time to callback (all priorities) of each period, for the chart."""
    found = {key: median for key, _, _, median, _, _ in callback_times(period, per_priority=False)}
    return [(period.label(key), _round(found.get(key))) for key in period.period_keys()]


#: Every table of the report, in the page's order; each can be exported.
TABLES = {
    "volumes": volumes,
    "service": service_levels,
    "attempts": attempts,
    "urgent": urgent_transfers,
    "csat": satisfaction,
    "technicians": technicians,
    "companies": companies,
    "heatmap": heat_map,
    "comments": comments,
}
