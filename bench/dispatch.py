"""How fast the engine hands out callbacks: claims per second, and "technician available" to "callback claimed".

    .venv/bin/python bench/dispatch.py                        # SQLite, then PostgreSQL
    .venv/bin/python bench/dispatch.py --database sqlite --samples 200

For each database: a migrated, empty database (a temporary SQLite file; on
PostgreSQL a schema of its own at DATABASE_URL, default 127.0.0.1:5432/test),
10,000 waiting callbacks of random priority and language, 200 technicians.

1. Claims per second. ``--dispatchers`` processes claim at once as a dispatch
   job does (``claim_batch``: the compare-and-set claim of up to 20 pairs per
   transaction; claims take turns), in rounds: all 200 technicians are free,
   the dispatchers claim until nobody is (200 claims), the round's calls are
   closed with bulk SQL (not timed) and the next round starts. Fifty rounds
   work down the whole queue. Claims/s = claims / wall time of the claiming.
2. Latency from "technician available" to "callback claimed", one technician at a
   time with the queue full again: the technician goes available the way the
   console does it (transition, commit, dispatch trigger into Redis), a worker
   started from the Procfile's ``worker`` line picks the trigger up and claims.
   Latency = the attempt's start stamp (taken at its INSERT, in the claim's
   transaction) minus the technician's state stamp (both ``utcnow()`` here).
   The offer is then missed (``MAX_MISSED_OFFERS=1`` sends the technician
   away) so the next sample starts from the same state.
   The same is measured with the claim made in this process, without Redis: the
   engine's own share.
3. The baseline, measured in the same run on the same queue: the textbook claim
   a callback sample makes, one pair per transaction (read the head of the
   queue, compare-and-set the callback and the technician, insert the attempt,
   commit) with SQLAlchemy Core, no batching, no language matching, no turns.
   The engine's figures are also printed as a ratio of it.

After each fill, PostgreSQL gets the ``VACUUM ANALYZE`` autovacuum would give a
table that just had thousands of rows written. The emulator in this process
answers the workers' REST calls; Redis is a private ``redis-server`` on a free
port. Every figure depends on what else runs on the machine: the load average
is printed with them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text, update

from bench.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Database,
    PrivateRedis,
    Process,
    desk_environment,
    free_port,
    load_average,
    machine,
    percentile,
    procfile,
)

CALLBACKS = 10_000
TECHNICIANS = 200
DEFAULT_POSTGRESQL = "postgresql+psycopg://127.0.0.1:5432/test"
#: How often the benchmark looks for a claim; the latency itself comes from the database's stamps.
POLL_SECONDS = 0.005
#: The engine settings of the run: a miss sends the technician away, so a sample ends where it began.
SETTINGS = {"MAX_MISSED_OFFERS": 1, "RECONCILE_SECONDS": 30, "OFFER_RING_SECONDS": 20}


def build_app():
    from app import create_app

    return create_app()


def fill_queue(count: int, batch: int) -> None:
    """``count`` waiting callbacks (with their tickets), queued a millisecond apart, in one bulk insert each."""
    from app.clock import utcnow
    from app.extensions import db
    from app.models import Callback, Ticket

    rng = random.Random(batch)
    now = utcnow()
    priorities = [rng.randint(1, 4) for _ in range(count)]
    ticket_ids = db.session.scalars(
        insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True),
        [{"number": f"B{batch}.{i:05d}", "title": f"bench {i}", "priority": p} for i, p in enumerate(priorities)],
    ).all()
    queued = [now - timedelta(milliseconds=count - i) for i in range(count)]
    db.session.execute(
        insert(Callback),
        [
            {
                "ticket_id": ticket_id,
                "phone": f"+32470{i:06d}",
                "priority": priorities[i],
                "language": rng.choice(("nl", "fr", "en")),
                "queued_at": queued[i],
                "due_at": queued[i],
                "status_since": queued[i],
            }
            for i, ticket_id in enumerate(ticket_ids)
        ],
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load and the rounds before it: fresh statistics (else the
        # planner sorts the whole queue) and no dead index entries of callbacks that left the queue.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE callback"))
            connection.execute(text("VACUUM ANALYZE technician"))


def add_technicians(count: int) -> list[int]:
    from app.extensions import db
    from app.models import Technician

    db.session.execute(
        insert(Technician),
        [
            {"name": f"Tech {i}", "phone": f"+32471{i:06d}", "languages": "nl,fr,en", "state": "away"}
            for i in range(count)
        ],
    )
    db.session.commit()
    return list(db.session.scalars(select(Technician.id).order_by(Technician.id)))


def close_round() -> None:
    """Between rounds (not timed): every offer ends connected, every technician is free again."""
    from app.clock import utcnow
    from app.extensions import db
    from app.models import Callback, CallbackAttempt, Technician

    now = utcnow()
    db.session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.status != "ended")
        .values(status="ended", outcome="connected", ended_at=now)
    )
    db.session.execute(update(Callback).where(Callback.status == "offered").values(status="completed", ended_at=now))
    db.session.execute(update(Technician).values(state="available", state_since=now, missed_offers=0))
    db.session.commit()


def set_all_away() -> None:
    from app.clock import utcnow
    from app.extensions import db
    from app.models import Technician

    db.session.execute(update(Technician).values(state="away", state_since=utcnow()))
    db.session.commit()


def dispatcher(environment: dict[str, str], start, done, results) -> None:
    """One dispatching process: each round, claim until no technician is free."""
    os.environ.update(environment)
    from callbacks.dispatch import claim_batch

    app = build_app()
    with app.app_context():
        while True:
            try:
                start.wait()
            except threading.BrokenBarrierError:
                return  # the run is over
            batches = []
            while True:
                began = time.perf_counter()
                claimed = claim_batch()
                if not claimed:
                    break
                batches.append((len(claimed), time.perf_counter() - began))
            results.put(batches)
            done.wait()


def measure_claims(
    environment: dict[str, str], dispatchers: int, rounds: int
) -> tuple[int, float, list[tuple[int, float]]]:
    """Claims made, wall seconds spent claiming, and (size, seconds) of every batch claimed."""
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(dispatchers + 1), context.Barrier(dispatchers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=dispatcher, args=(environment, start, done, results)) for _ in range(dispatchers)
    ]
    for process in processes:
        process.start()
    claims, wall, batches = 0, 0.0, []
    try:
        for _ in range(rounds):
            close_round()
            start.wait()
            began = time.perf_counter()
            for _ in range(dispatchers):
                round_batches = results.get(timeout=120)
                claims += sum(size for size, _ in round_batches)
                batches.extend(round_batches)
            wall += time.perf_counter() - began
            done.wait()
    finally:
        start.abort()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return claims, wall, batches


def bare_claim(connection, technician_id: int) -> bool:
    """The baseline: claim the head of the queue for one technician, one transaction, compare-and-set."""
    from app.clock import utcnow
    from app.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus, Technician, TechnicianState

    now = utcnow()
    with connection.begin() as transaction:
        head = connection.execute(
            select(Callback.id)
            .where(Callback.status == CallbackStatus.WAITING, Callback.due_at <= now)
            .order_by(Callback.priority, Callback.queued_at, Callback.id)
            .limit(1)
        ).scalar()
        if head is None:
            return False
        taken = connection.execute(
            update(Callback)
            .where(Callback.id == head, Callback.status == CallbackStatus.WAITING)
            .values(status=CallbackStatus.OFFERED, status_since=now, technician_id=technician_id)
        ).rowcount
        taken += connection.execute(
            update(Technician)
            .where(Technician.id == technician_id, Technician.state == TechnicianState.AVAILABLE)
            .values(state=TechnicianState.OFFERED, state_since=now)
        ).rowcount
        if taken != 2:
            transaction.rollback()
            return False
        connection.execute(
            insert(CallbackAttempt).values(
                callback_id=head, technician_id=technician_id, status=AttemptStatus.RINGING_TECHNICIAN, started_at=now
            )
        )
    return True


def measure_bare_claims(technician_ids: list[int], rounds: int) -> tuple[int, float, list[float]]:
    """The baseline's claims, wall seconds spent claiming, and the seconds of every claim."""
    from app.extensions import db

    claims, wall, seconds = 0, 0.0, []
    with db.engine.connect() as connection:
        for _ in range(rounds):
            close_round()
            began = time.perf_counter()
            for technician_id in technician_ids:
                started = time.perf_counter()
                if bare_claim(connection, technician_id):
                    claims += 1
                seconds.append(time.perf_counter() - started)
            wall += time.perf_counter() - began
    return claims, wall, seconds


def wait_for_offer(technician_id: int, timeout: float = 10.0):
    """The open attempt of ``technician_id`` once a worker has claimed for them."""
    from app.extensions import db
    from app.models import CallbackAttempt

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attempt = db.session.scalars(
            select(CallbackAttempt).where(
                CallbackAttempt.technician_id == technician_id, CallbackAttempt.status != "ended"
            )
        ).first()
        db.session.commit()
        if attempt is not None:
            return attempt
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"nobody claimed for technician {technician_id} within {timeout} s")


def measure_latency(technician_ids: list[int], samples: int, through_redis: bool) -> list[float]:
    """Milliseconds from a technician going available to a callback claimed for them."""
    from app.extensions import db
    from app.models import AttemptOutcome, Technician
    from callbacks import attempts, technicians, triggers
    from callbacks.dispatch import claim_next

    latencies = []
    for sample in range(samples):
        technician_id = technician_ids[sample % len(technician_ids)]
        assert technicians.set_state(technician_id, "available")
        db.session.commit()
        available_at = db.session.scalar(select(Technician.state_since).where(Technician.id == technician_id))
        if through_redis:
            triggers.dispatch_now()
            attempt = wait_for_offer(technician_id)
        else:
            attempt = claim_next()
        latencies.append((attempt.started_at - available_at).total_seconds() * 1000)
        # Missed (the technician goes away): the callback keeps its place, the next sample starts clean.
        assert attempts.technician_declined(attempt, AttemptOutcome.TECHNICIAN_MISSED)
    return latencies


def warm_up(workers: int) -> None:
    """A worker builds the app on its first job (about a second): give each one a job before measuring."""
    from app.queueing import queue

    for _ in range(4 * workers):  # straight into the queue: triggers would coalesce into one job
        queue("dispatch").enqueue("callbacks.jobs.dispatch")
    deadline = time.monotonic() + 60
    while queue("dispatch").count and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)


def run(label: str, admin_url: str, args: argparse.Namespace, workdir: Path) -> None:
    from emulator import Phone, TwilioEmulator

    database = Database.create(admin_url, workdir)
    redis = PrivateRedis(workdir).start()
    emulator = TwilioEmulator(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    emulator.default_phone = Phone(answer="busy")  # the REST call is answered; no webhooks follow
    instance = workdir / f"instance-{label}"
    instance.mkdir()
    environment = desk_environment(database.url, redis.url, instance, free_port(), emulator.base_url, **SETTINGS)
    os.environ.update(environment)
    workers: list[Process] = []
    try:
        database.migrate(instance)
        app = build_app()
        with app.app_context():
            technician_ids = add_technicians(TECHNICIANS)
            print(
                f"{label}: {CALLBACKS:,} waiting callbacks, {TECHNICIANS} technicians (load average {load_average()})"
            )
            close_round()
            fill_queue(CALLBACKS, 0)
            claims, wall, seconds = measure_bare_claims(technician_ids, CALLBACKS // TECHNICIANS)
            baseline_rate = claims / wall
            print(
                f"  baseline, one claim per transaction, 1 process: {claims:,} in {wall:.1f} s = "
                f"{baseline_rate:,.0f} claims/s; one claim p50 {percentile(seconds, 0.5) * 1000:.1f} ms, "
                f"p99 {percentile(seconds, 0.99) * 1000:.1f} ms"
            )
            for batch, count in enumerate(args.dispatchers, start=1):
                close_round()
                filled = time.perf_counter()
                fill_queue(CALLBACKS, batch)
                filling = time.perf_counter() - filled
                claims, wall, batches = measure_claims(environment, count, CALLBACKS // TECHNICIANS)
                seconds = [elapsed for _, elapsed in batches]
                print(
                    f"  claims, {count} dispatcher{'s' if count > 1 else ''}: {claims:,} in {wall:.1f} s = "
                    f"{claims / wall:,.0f} claims/s; {len(batches):,} batches of {claims / len(batches):.1f} on "
                    f"average, one batch p50 {percentile(seconds, 0.5) * 1000:.1f} ms, "
                    f"p99 {percentile(seconds, 0.99) * 1000:.1f} ms (queue filled in {filling:.1f} s); "
                    f"{claims / wall / baseline_rate:.2f}x the baseline"
                )
            close_round()
            fill_queue(CALLBACKS, len(args.dispatchers) + 1)
            set_all_away()
            for number in range(args.workers):
                workers.append(Process(f"worker-{label}-{number}", procfile("worker"), environment, workdir).start())
            warm_up(args.workers)
            in_process = None
            for through_redis, how in (
                (False, "in this process"),
                (True, f"trigger via Redis, {args.workers} RQ workers"),
            ):
                latencies = measure_latency(technician_ids, args.samples, through_redis)
                p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
                ratio = f"; {p99 / in_process:.1f}x the in-process p99" if in_process else ""
                in_process = in_process or p99
                print(
                    f"  available -> claimed, {how} ({len(latencies)} samples): "
                    f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms{ratio}"
                )
            print(f"  load average at the end: {load_average()}")
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        for worker in workers:
            worker.stop()
        emulator.stop()
        redis.stop()
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--dispatchers", type=lambda raw: [int(n) for n in raw.split(",")], default=[1, 4])
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes for the latency run")
    parser.add_argument("--samples", type=int, default=500, help="latency samples per path")
    args = parser.parse_args()
    print(f"bench/dispatch.py on {machine()}")
    postgresql = os.environ.get("DATABASE_URL", DEFAULT_POSTGRESQL)
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as temporary:
        workdir = Path(temporary)
        if args.database in ("sqlite", "both"):
            run("SQLite", "sqlite://", args, workdir)
        if args.database in ("postgresql", "both"):
            run("PostgreSQL", postgresql, args, workdir)


if __name__ == "__main__":
    main()
