"""What the managers' reports cost over a year of history: each table, the charts, the whole page.

    DATABASE_URL=postgresql+psycopg://127.0.0.1/test .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py [--calls 250000] [--callbacks 200000] [--runs 20]

Fills one year (calls, tickets, callbacks with their attempts, urgent transfers, surveys) with
bulk inserts, runs ANALYZE, then times every report of ``app.web.report_figures`` over the
whole year per day and per week, the page and one CSV export (Flask test client: the app's
own cost, without HTTP), and prints p50/p95 in milliseconds of ``--runs`` runs each. Before
timing, the daily rollup is filled for every finished day (``rq cron``'s job, timed too);
``--live`` leaves it empty, so every report counts the raw rows.
SQLite in a temporary file, or PostgreSQL in a schema of its own that is dropped afterwards.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app, report_rollup
from app.extensions import db
from app.models import (
    AttemptOutcome,
    Call,
    Callback,
    CallbackAttempt,
    Company,
    Contact,
    ReportCallbackTimes,
    ReportDay,
    Survey,
    Technician,
    Ticket,
    UrgentTransfer,
)
from app.web.accounts import add_user
from app.web.report_figures import TABLES, Period, median_times, queue_length

YEAR_START = datetime(2025, 12, 1, 6, 0)
BATCH = 5000
OUTCOMES = [None, "queued", "queued", "queued", "ticket_read", "no_number", "put_through", "kept_place"]


def database_url(workdir: Path, reused: str | None) -> tuple[str, str | None]:
    """The database to fill: SQLite in ``workdir``, or a new PostgreSQL schema (None when ``reused``)."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        return f"sqlite:///{workdir / 'bench.db'}", None
    schema = reused or f"bench_reports_{uuid.uuid4().hex[:8]}"
    if not reused:
        with sa.create_engine(configured).begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in configured else "?"
    return f"{configured}{separator}options=-csearch_path%3D{schema}", None if reused else schema


def office_moment(rng: random.Random) -> datetime:
    """A moment in the year, mostly in office hours on weekdays, as calls come."""
    day = YEAR_START + timedelta(days=rng.randrange(365))
    if day.weekday() >= 5 and rng.random() < 0.8:
        day -= timedelta(days=day.weekday() - 4)
    return day + timedelta(seconds=int(rng.triangular(0, 11 * 3600, 3 * 3600)))


def insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(model), rows[start : start + BATCH])
    db.session.commit()


def fill_year(calls: int, callbacks: int) -> None:
    """One year of the desk's history, with the proportions of a busy desk."""
    rng = random.Random(2026)
    insert(Company, [{"id": n + 1, "name": f"Company {n}", "contract": "wise"} for n in range(300)])
    insert(Contact, [{"id": n + 1, "name": f"Contact {n}", "company_id": n % 300 + 1} for n in range(3000)])
    insert(Technician, [{"id": n + 1, "name": f"Technician {n}", "phone": f"+324700{n:05d}"} for n in range(15)])
    tickets = max(calls * 4 // 5, callbacks)
    ticket_rows = []
    for n in range(tickets):
        created = office_moment(rng)
        ticket_rows.append(
            {"id": n + 1, "number": f"T{n:09d}", "title": "Printer", "created_at": created, "contact_id": n % 3000 + 1}
        )
    insert(Ticket, ticket_rows)
    call_rows = []
    for n in range(calls):
        started = office_moment(rng)
        call_rows.append(
            {
                "sid": f"CA{n:032d}",
                "language": "nl",
                "started_at": started,
                "ended_at": started + timedelta(seconds=rng.randrange(30, 400)),
                "outcome": rng.choice(OUTCOMES),
                "contact_id": rng.choice([None, n % 3000 + 1]),
            }
        )
    insert(Call, call_rows)
    del call_rows
    callback_rows, attempt_rows = [], []
    for n in range(callbacks):
        queued = ticket_rows[n]["created_at"] + timedelta(seconds=90)
        status = rng.choices(["completed", "unreachable", "cancelled"], weights=(85, 10, 5))[0]
        ended = queued + timedelta(seconds=int(rng.expovariate(1 / 2400)) + 60)
        callback_rows.append(
            {
                "id": n + 1,
                "ticket_id": n + 1,
                "phone": f"+3247{n:07d}",
                "language": "nl",
                "priority": rng.choices((1, 2, 3, 4), weights=(5, 20, 40, 35))[0],
                "status": status,
                "queued_at": queued,
                "due_at": queued,
                "status_since": ended,
                "ended_at": ended,
                "attempts": 1,
            }
        )
        if rng.random() < 0.2:
            attempt_rows.append(
                {
                    "callback_id": n + 1,
                    "technician_id": rng.randrange(15) + 1,
                    "status": "ended",
                    "outcome": rng.choice((AttemptOutcome.TECHNICIAN_MISSED, AttemptOutcome.TECHNICIAN_SKIPPED)),
                    "started_at": queued + timedelta(seconds=30),
                    "ended_at": queued + timedelta(seconds=50),
                }
            )
        talk = rng.randrange(60, 900)
        attempt_rows.append(
            {
                "callback_id": n + 1,
                "technician_id": rng.randrange(15) + 1,
                "status": "ended",
                "outcome": AttemptOutcome.CONNECTED if status == "completed" else AttemptOutcome.NO_ANSWER,
                "started_at": ended - timedelta(seconds=talk + 40),
                "answered_at": ended - timedelta(seconds=talk + 30),
                "ended_at": ended,
                "talk_seconds": talk if status == "completed" else None,
            }
        )
    insert(Callback, callback_rows)
    insert(CallbackAttempt, attempt_rows)
    del callback_rows, attempt_rows
    insert(
        UrgentTransfer,
        [
            {
                "call_sid": f"CU{n:032d}",
                "ticket_id": n + 1,
                "status": rng.choice(("ended", "queued")),
                "technician_id": rng.randrange(15) + 1,
                "started_at": ticket_rows[n]["created_at"],
            }
            for n in range(calls // 100)
        ],
    )
    survey_rows = []
    for n in range(0, callbacks, 4):
        sent = ticket_rows[n]["created_at"] + timedelta(hours=3)
        rated = sent + timedelta(hours=5) if rng.random() < 0.35 else None
        survey_rows.append(
            {
                "ticket_id": n + 1,
                "state": "sent",
                "sent_at": sent,
                "rating": rng.randint(1, 5) if rated else None,
                "rated_at": rated,
                "comment": "Quick and friendly." if rated and rng.random() < 0.1 else None,
                "commented_at": rated if rated else None,
            }
        )
    insert(Survey, survey_rows)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def timed(work, runs: int) -> tuple[float, float]:
    """p50 and p95 (nearest rank) in milliseconds of ``runs`` runs of ``work``."""
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        durations.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    durations.sort()
    return statistics.median(durations), durations[max(0, -(-95 * runs // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=250_000)
    parser.add_argument("--callbacks", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--schema", help="PostgreSQL: a schema a previous run filled (kept afterwards)")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep the new schema (printed) afterwards")
    parser.add_argument("--live", action="store_true", help="empty the daily rollup: the reports count raw rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url, schema = database_url(Path(workdir), args.schema)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": workdir})
        try:
            with app.app_context():
                upgrade(revision="heads")
                started = time.perf_counter()
                if not db.session.scalar(sa.select(sa.func.count()).select_from(Call)):
                    fill_year(args.calls, args.callbacks)
                    add_user("bench-manager", "bench-password", "manager")
                elif db.engine.dialect.name == "postgresql":
                    db.session.execute(sa.text("ANALYZE"))
                    db.session.commit()
                print(
                    f"{url.split(':')[0]}: one year, {args.calls} calls, {args.callbacks} callbacks "
                    f"(filled in {time.perf_counter() - started:.0f} s); p50/p95 of {args.runs} runs"
                    + (f"; schema {schema} kept" if schema and args.keep else "")
                )
                db.session.execute(sa.delete(ReportCallbackTimes))
                db.session.execute(sa.delete(ReportDay))
                db.session.commit()
                if not args.live:
                    started = time.perf_counter()
                    days = report_rollup.catch_up()
                    filled = time.perf_counter() - started
                    started = time.perf_counter()
                    again = report_rollup.catch_up()
                    print(
                        f"  rollup: {days} desk days counted in {filled:.1f} s; "
                        f"the hourly run after it ({again} days recounted) {time.perf_counter() - started:.2f} s"
                    )
                year = Period(date(2025, 12, 1), date(2026, 11, 30), "day")
                weekly = Period(year.first, year.last, "week")
                reports = [(f"{name} per day", lambda b=build: b(year)) for name, build in TABLES.items()]
                reports += [(f"{name} per week", lambda b=build: b(weekly)) for name, build in TABLES.items()]
                reports += [
                    ("queue chart per day", lambda: queue_length(year)),
                    ("median chart per day", lambda: median_times(year)),
                ]
                for label, work in reports:
                    p50, p95 = timed(work, args.runs)
                    print(f"  {label:<24} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = page.split('name="csrf-token" content="')[1].split('"')[0]
            client.post("/login", data={"username": "bench-manager", "password": "bench-password", "csrf_token": token})
            for label, path in (
                ("whole page, a year", "/reports?from=2025-12-01&to=2026-11-30"),
                ("whole page, a month", "/reports?from=2026-11-01&to=2026-11-30"),
                ("CSV service, a year", "/reports/service.csv?from=2025-12-01&to=2026-11-30"),
            ):
                with app.app_context():
                    p50, p95 = timed(lambda p=path: client.get(p).status_code == 200 or sys.exit(p), args.runs)
                print(f"  {label:<24} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        finally:
            with app.app_context():
                db.engine.dispose()
            if schema and not args.keep:
                with sa.create_engine(os.environ["DATABASE_URL"]).begin() as connection:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
