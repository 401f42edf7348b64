"""The reports' daily rollup: filled for finished desk days, the reports read it and still match the raw rows.

The comparisons of tests/test_reports.py (every figure recomputed in Python from the raw rows of
a seeded March 2026, a clock change included) run again here with the rollup filled, wholly or
for some days only, so the reports mix rolled-up days and live ones.
"""

from datetime import date, datetime, timedelta

import pytest
from rq.cron import CronScheduler
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import report_rollup
from app.clock import as_utc, local, utcnow
from app.extensions import db
from app.models import Call, Callback, ReportCallbackTimes, ReportDay
from app.queueing import redis_connection
from app.web import report_figures as reports
from app.web.report_figures import Period
from tests import test_reports as raw
from tests.test_reports import month  # noqa: F401 (the seeded month, a fixture)

MARCH = raw.MARCH
SEEDED = (date(2026, 2, 27), date(2026, 4, 1))
#: The comparisons of tests/test_reports.py that read the rollup.
COMPARISONS = [
    lambda app, seeded: raw.test_volumes_match_the_raw_rows(seeded),
    lambda app, seeded: raw.test_weeks_run_monday_to_sunday_on_the_desk_clock(seeded),
    lambda app, seeded: raw.test_time_to_callback_per_day_and_priority_match_the_raw_rows(app, seeded),
    lambda app, seeded: raw.test_the_time_chart_is_the_pooled_median_of_each_day(seeded),
]
NAMES = ["volumes", "weeks", "time to callback", "time chart"]


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def at_noon(day: date) -> datetime:
    return as_utc(datetime(day.year, day.month, day.day, 12, tzinfo=local().tzinfo))


@pytest.mark.parametrize("compare", COMPARISONS, ids=NAMES)
def test_the_reports_match_the_raw_rows_with_every_day_rolled_up(app, month, compare):  # noqa: F811
    assert report_rollup.roll_up(*SEEDED) == 34
    assert db.session.scalar(select(func.count()).select_from(ReportDay)) == 34
    assert db.session.scalar(select(func.count()).select_from(ReportCallbackTimes)) > 60
    compare(app, month)


@pytest.mark.parametrize("compare", COMPARISONS, ids=NAMES)
def test_the_reports_match_the_raw_rows_with_some_days_rolled_up(app, month, compare):  # noqa: F811
    # Rolled-up days with live ones before, between and after them (and a week cut by both).
    report_rollup.roll_up(date(2026, 3, 3), date(2026, 3, 11))
    report_rollup.roll_up(date(2026, 3, 20), date(2026, 3, 21))
    report_rollup.roll_up(date(2026, 3, 31), date(2026, 3, 31))
    assert db.session.scalar(select(func.count()).select_from(ReportDay)) == 12
    compare(app, month)


def test_the_reports_read_the_rollup_for_the_days_it_holds(app, month):  # noqa: F811
    report_rollup.roll_up(MARCH.first, MARCH.last)
    before = raw.rows_by_label(reports.volumes(MARCH))["2026-03-10"]
    row = db.session.get(ReportDay, date(2026, 3, 10))
    row.calls = 9999
    times = db.session.get(ReportCallbackTimes, (date(2026, 3, 10), 2))
    times.milliseconds = [60_000, 120_000, 180_000, 240_000]
    db.session.commit()
    assert raw.rows_by_label(reports.volumes(MARCH))["2026-03-10"] == [9999, *before[1:]]
    service = {(str(r[0]), r[1]): r[2:5] for r in reports.service_levels(MARCH).rows}
    assert service[("2026-03-10", 2)] == [4, 2.5, 4.0]


def test_a_late_change_to_a_finished_day_is_counted_by_a_recount(app, month):  # noqa: F811
    report_rollup.roll_up(MARCH.first, MARCH.last)
    counted = raw.rows_by_label(reports.volumes(MARCH))["2026-03-10"][0]
    db.session.add(Call(sid="CA-late", language="nl", started_at=at_noon(date(2026, 3, 10))))
    db.session.commit()
    # The rollup holds the day as it was counted ...
    assert raw.rows_by_label(reports.volumes(MARCH))["2026-03-10"][0] == counted
    # ... until the day is counted again (flask report-rollup --from 2026-03-10 --to 2026-03-10).
    result = app.test_cli_runner().invoke(args=["report-rollup", "--from", "2026-03-10", "--to", "2026-03-10"])
    assert result.exit_code == 0 and "counted 1 desk days" in result.output
    assert raw.rows_by_label(reports.volumes(MARCH))["2026-03-10"][0] == counted + 1
    raw.test_volumes_match_the_raw_rows(month)


def test_the_job_catches_up_every_missed_day_and_recounts_the_last_ones(app, month, monkeypatch):  # noqa: F811
    monkeypatch.setattr(report_rollup, "today", lambda: date(2026, 3, 20))
    app.config["REPORT_RECOUNT_DAYS"] = 2
    # The first run: every finished day from the first one with data (27 February) to yesterday.
    assert report_rollup.rollup_job() == "21 days"
    assert sorted(db.session.scalars(select(ReportDay.day))) == days(date(2026, 2, 27), date(2026, 3, 19))
    # Idempotent: the next run only counts the last two days again.
    assert report_rollup.catch_up() == 2
    assert db.session.scalar(select(func.count()).select_from(ReportDay)) == 21
    # A call that ended after midnight (or any change to yesterday) is picked up by the next run.
    db.session.add(Call(sid="CA-after-midnight", language="nl", started_at=at_noon(date(2026, 3, 19))))
    db.session.commit()
    report_rollup.catch_up()
    week = Period(date(2026, 3, 17), date(2026, 3, 19))
    calls = [c for c in db.session.query(Call) if raw.day_of(c.started_at) == date(2026, 3, 19)]
    assert raw.rows_by_label(reports.volumes(week))["2026-03-19"][0] == len(calls)
    # Days missed (the cron down for a week) are caught up, whatever the recount window.
    db.session.query(ReportCallbackTimes).filter(ReportCallbackTimes.day >= date(2026, 3, 5)).delete()
    db.session.query(ReportDay).filter(ReportDay.day >= date(2026, 3, 5)).delete()
    db.session.commit()
    monkeypatch.setattr(report_rollup, "today", lambda: date(2026, 3, 25))
    assert report_rollup.catch_up() == 20
    assert sorted(db.session.scalars(select(ReportDay.day))) == days(date(2026, 2, 27), date(2026, 3, 24))
    monkeypatch.setattr(report_rollup, "today", lambda: date(2026, 4, 10))
    report_rollup.catch_up()
    raw.test_volumes_match_the_raw_rows(month)
    raw.test_time_to_callback_per_day_and_priority_match_the_raw_rows(app, month)


def test_today_is_never_rolled_up_and_is_read_live(app):
    today = local().date()
    now = utcnow()
    db.session.add(Call(sid="CA-yesterday", language="nl", started_at=now - timedelta(days=1, hours=1)))
    db.session.commit()
    report_rollup.catch_up()
    assert report_rollup.roll_up(today, today) == 0
    assert today not in set(db.session.scalars(select(ReportDay.day)))
    db.session.add(Call(sid="CA-today", language="nl", started_at=now))
    db.session.commit()
    table = raw.rows_by_label(reports.volumes(Period(today - timedelta(days=3), today)))
    assert table[today.isoformat()][0] == 1
    assert sum(row[0] for row in table.values()) == 2


def test_a_desk_without_history_has_nothing_to_roll_up(app):
    assert report_rollup.rollup_job() == "0 days"
    result = app.test_cli_runner().invoke(args=["report-rollup"])
    assert result.exit_code == 0 and "counted 0 desk days" in result.output
    result = app.test_cli_runner().invoke(args=["report-rollup", "--from", "2026-03-10", "--to", "2026-03-01"])
    assert result.exit_code != 0 and "before" in result.output


def test_a_day_with_nothing_is_rolled_up_as_zeros_and_callbacks_keep_their_times(app, month):  # noqa: F811
    report_rollup.roll_up(date(2026, 2, 1), date(2026, 2, 28))
    empty = db.session.get(ReportDay, date(2026, 2, 10))
    assert [getattr(empty, name) for name in report_rollup.VOLUME_COLUMNS] == [0] * 8
    stored = db.session.scalars(select(ReportCallbackTimes)).all()
    completed = [c for c in db.session.query(Callback).filter_by(status="completed") if raw.day_of(c.ended_at)]
    for times in stored:
        expected = sorted(
            raw.minutes_to_callback(c)
            for c in completed
            if raw.day_of(c.ended_at) == times.day and c.priority == times.priority
        )
        assert [m / 60_000 for m in times.milliseconds] == pytest.approx(expected, abs=1e-5)


def test_rq_cron_rolls_up_hourly(app):
    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("callbacks.cron")
    jobs = {f"{j.func.__module__}.{j.func.__name__}": (j.cron, j.queue_name) for j in scheduler.get_jobs()}
    assert jobs["app.report_rollup.rollup_job"] == ("20 * * * *", "notify")


def test_two_runs_counting_the_same_days_at_once_leave_one_row_per_day(app, month, monkeypatch):  # noqa: F811
    # The other run commits its rows for the same days between this run's DELETE and INSERT.
    replace = report_rollup._replace
    calls = []

    def racing(first, last):
        if not calls:
            calls.append((first, last))
            db.session.add(ReportDay(day=first, **dict.fromkeys(report_rollup.VOLUME_COLUMNS, 0)))
            db.session.flush()
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return replace(first, last)

    monkeypatch.setattr(report_rollup, "_replace", racing)
    assert report_rollup.roll_up(MARCH.first, MARCH.last) == 31
    assert db.session.scalar(select(func.count()).select_from(ReportDay)) == 31
    raw.test_volumes_match_the_raw_rows(month)
