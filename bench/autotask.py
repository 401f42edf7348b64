"""What Autotask costs the desk: ticket creation while a caller waits, and pushing a backlog.

    .venv/bin/python bench/autotask.py [--tickets 200] [--backlog 100]
    DATABASE_URL=postgresql+psycopg://127.0.0.1/test .venv/bin/python bench/autotask.py

Against the Autotask stand-in on loopback (so the figures are the desk's own cost plus
loopback HTTP, not a real instance's latency), it prints:

1. ``create()`` latency, p50/p99, for the SQL store and for the Autotask store, and the
   Autotask requests per ticket;
2. the same create while the instance adds threshold latency (50 % and 75 % of the hourly
   allowance used), against the caller's budget (AUTOTASK_CALLER_SECONDS);
3. a backlog built while Autotask was down (tickets with notes), pushed by ``sync_pending()``:
   tickets and notes per second, and requests per note.

Redis database 7 carries the (unrun) sync jobs and is flushed before and after.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade
from redis import Redis

from app import create_app
from app.extensions import db
from app.models import AutotaskTicket
from app.tickets import ticket_store
from app.tickets.autotask import sync
from autotask_standin import AutotaskStandIn

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def build_app(workdir: Path, standin: AutotaskStandIn):
    url = os.environ.get("DATABASE_URL", "")
    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(url).begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(workdir),
            "REDIS_URL": REDIS_URL,
            "TICKET_STORE": "sql",
            "AUTOTASK_USERNAME": standin.username,
            "AUTOTASK_SECRET": standin.secret,
            "AUTOTASK_INTEGRATION_CODE": standin.integration_code,
            "AUTOTASK_ZONE_URL": standin.zone_url,
        }
    )
    return app, schema


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"


def time_creates(count: int, label: str) -> list[float]:
    samples = []
    for number in range(count):
        started = time.perf_counter()
        ticket_store().create(origin_call_sid=f"CA{label}{number}", title="Printer", priority=3)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=100)
    args = parser.parse_args()
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    standin = AutotaskStandIn(latency_seconds=(0.0, 0.0)).start()
    with tempfile.TemporaryDirectory() as workdir:
        app, schema = build_app(Path(workdir), standin)
        try:
            with app.app_context():
                upgrade(revision="heads")
                run(app, standin, args)
                db.session.remove()
                db.engine.dispose()
        finally:
            standin.stop()
            redis.flushdb()
            if schema:
                with sa.create_engine(os.environ["DATABASE_URL"]).begin() as connection:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def run(app, standin: AutotaskStandIn, args) -> None:
    database = db.engine.dialect.name
    print(f"Autotask store benchmark on {database}, stand-in on loopback, {args.tickets} tickets per store")

    sql = time_creates(args.tickets, "sql")
    print(f"  create, SQL store:       {percentiles(sql)}")
    app.config["TICKET_STORE"] = "autotask"
    time_creates(1, "warm")  # zone discovery and picklists, once per process
    before = len(standin.api_calls())
    autotask = time_creates(args.tickets, "at")
    per_ticket = (len(standin.api_calls()) - before) / args.tickets
    print(f"  create, Autotask store:  {percentiles(autotask)}   {per_ticket:.1f} requests per ticket")

    budget = app.config["AUTOTASK_CALLER_SECONDS"]
    for share, delay in ((0.5, 0.5), (0.75, 1.0)):
        standin.hourly_threshold = round(standin.requests_this_hour() / share) - 1
        standin.latency_seconds = (0.5, 1.0)
        samples = time_creates(5, f"slow{share}")
        print(
            f"  create at {share:.0%} of the hourly threshold (+{delay} s per request): "
            f"{percentiles(samples)}   caller budget {budget:.0f} s"
        )
    standin.hourly_threshold, standin.latency_seconds = 10_000_000, (0.0, 0.0)

    standin.fail_next(503, count=10**9)
    store = ticket_store()
    backlog = []
    for number in range(args.backlog):
        ticket = store.create(origin_call_sid=f"CAdown{number}", title="Queued while down", priority=3)
        store.add_note(ticket, "Callback attempt by Jan Janssens: customer not reached (no_answer).")
        store.add_note(ticket, "Called back by Jan Janssens: connected (42 s).")
        backlog.append(ticket.id)
    standin.heal()
    db.session.execute(sa.update(AutotaskTicket).where(AutotaskTicket.ticket_id.in_(backlog)).values(lease_until=None))
    db.session.commit()
    notes = sum(len(db.session.get(AutotaskTicket, ticket_id).ticket.notes) for ticket_id in backlog)
    before = len(standin.api_calls())
    started = time.perf_counter()
    pushed = 0
    while (done := sync.sync_pending(limit=50)) > 0:
        pushed += done
    elapsed = time.perf_counter() - started
    requests = len(standin.api_calls()) - before
    print(
        f"  backlog of {pushed} tickets with {notes} notes pushed in {elapsed:.2f} s: "
        f"{pushed / elapsed:.1f} tickets/s, {notes / elapsed:.1f} notes/s, "
        f"{requests} requests ({requests / pushed:.1f} per ticket)"
    )


if __name__ == "__main__":
    main()
