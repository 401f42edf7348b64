"""SQL per webhook: what each IVR step of one call sends to the database, and its time in process.

    .venv/bin/python bench/statements.py                      # PostgreSQL at DATABASE_URL, Redis db 9
    .venv/bin/python bench/statements.py --database sqlite --calls 300

Builds the desk with ``app.create_app()`` on a migrated schema of its own (a file on SQLite)
and walks calls through the new-problem path of the IVR, each webhook signed and posted
through Flask's test client as tests/helpers.py's ``SignedClient`` does. Printed per
webhook: the database calls one call cost, in order (statements, the ping of an idle pooled connection,
COMMIT/ROLLBACK, and on PostgreSQL the BEGIN that psycopg sends as a command of its own:
there each is a round trip to the server), the Redis commands, and the in-process time
per request over ``--calls`` calls (median, p90). No gunicorn, no HTTP: the view's own work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event
from twilio.request_validator import RequestValidator

from bench.harness import ACCOUNT_SID, AUTH_TOKEN, DESK_NUMBER, Database, desk_environment, machine

DEFAULT_DATABASE = "postgresql+psycopg://127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
#: The new-problem path of tests/test_ivr_new_problem.py: (label, path, extra form fields).
WALK = [
    ("incoming (new call)", "/voice/incoming", {"CallStatus": "ringing"}),
    ("incoming (replayed)", "/voice/incoming", {"CallStatus": "ringing"}),
    ("language", "/voice/language?try=0", {"Digits": "3"}),
    ("main-menu", "/voice/main-menu?try=0", {"Digits": "2"}),
    ("recorded", "/voice/recorded", {"RecordingUrl": "https://rec.example/RE1", "Digits": "#"}),
    ("urgency", "/voice/urgency?try=0", {"Digits": "1"}),
    ("impact", "/voice/impact?try=0", {"Digits": "1"}),
    ("confirm-number", "/voice/confirm-number?try=0", {"Digits": "1"}),
    ("status (completed)", "/voice/status", {"CallStatus": "completed", "CallDuration": "42"}),
]


@dataclass
class Step:
    """One webhook of one call: its time, and what it sent when recorded."""

    label: str
    seconds: float
    sql: list[str] = field(default_factory=list)
    redis: list[str] = field(default_factory=list)


class Recorder:
    """Every database round trip and Redis command while a step is being recorded, in order."""

    def __init__(self) -> None:
        self.step: Step | None = None
        #: Set while the pool's ping runs: it is noted once, as itself.
        self.muted = False

    def note(self, kind: str, text: str) -> None:
        if self.step is not None and not self.muted:
            (self.step.redis if kind == "redis" else self.step.sql).append(" ".join(text.split()))


def instrument(engine, recorder: Recorder) -> None:
    """Hook the database driver (or the engine, on SQLite), the pool's ping and redis-py.

    On PostgreSQL psycopg itself is hooked: it sends BEGIN before a transaction's first
    statement, and COMMIT and ROLLBACK, as commands of their own, each a round trip that
    SQLAlchemy's cursor events do not show.
    """
    import redis.client

    dialect = engine.dialect
    do_ping = dialect.do_ping

    def ping(dbapi_connection) -> bool:
        recorder.note("sql", f"{dialect._dialect_specific_select_one}  -- ping of an idle pooled connection")
        recorder.muted = True
        try:
            return do_ping(dbapi_connection)
        finally:
            recorder.muted = False

    dialect.do_ping = ping
    if dialect.name == "postgresql":
        from psycopg._connection_base import BaseConnection
        from psycopg._cursor_base import BaseCursor

        exec_command, send_query = BaseConnection._exec_command, BaseCursor._maybe_prepare_gen

        def command(self, text, *args, **kwargs):
            recorder.note("sql", text.decode() if isinstance(text, bytes) else str(text))
            return exec_command(self, text, *args, **kwargs)

        def query(self, pgq, *args, **kwargs):
            recorder.note("sql", pgq.query.decode())
            return send_query(self, pgq, *args, **kwargs)

        BaseConnection._exec_command, BaseCursor._maybe_prepare_gen = command, query
    else:

        @event.listens_for(engine, "before_cursor_execute")
        def statement(_conn, _cursor, sql, _params, _context, _many) -> None:
            recorder.note("sql", sql)

        @event.listens_for(engine, "commit")
        def commit(_conn) -> None:
            recorder.note("sql", "COMMIT")

        @event.listens_for(engine, "rollback")
        def rollback(_conn) -> None:
            recorder.note("sql", "ROLLBACK")

    execute_command = redis.client.Redis.execute_command

    def redis_command(self, *args, **options):
        recorder.note("redis", " ".join(str(arg) for arg in args[:2]))
        return execute_command(self, *args, **options)

    redis.client.Redis.execute_command = redis_command
    execute_pipeline = redis.client.Pipeline.execute

    def pipeline(self, *args, **kwargs):
        names = " ".join(str(command[0][0]) for command in self.command_stack)
        recorder.note("redis", f"pipeline: {names}")
        return execute_pipeline(self, *args, **kwargs)

    redis.client.Pipeline.execute = pipeline


def walk(
    client, validator: RequestValidator, base_url: str, sid: str, caller: str, recorder: Recorder | None = None
) -> list[Step]:
    """Post the walk's webhooks for one call, recording what each sends when ``recorder`` is given."""
    steps = []
    for label, path, extra in WALK:
        form = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": caller, "To": DESK_NUMBER, **extra}
        signature = validator.compute_signature(base_url + path, form)
        step = Step(label, 0.0)
        if recorder is not None:
            recorder.step = step
        started = time.perf_counter()
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        step.seconds = time.perf_counter() - started
        if recorder is not None:
            recorder.step = None
        if response.status_code != 200:
            raise RuntimeError(f"{label}: HTTP {response.status_code}")
        steps.append(step)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--calls", type=int, default=200, help="calls walked for the timings")
    parser.add_argument("--width", type=int, default=150, help="characters of each statement shown")
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    admin_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE) if arguments.database == "postgresql" else ""
    database = Database.create(admin_url, workdir)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    base_url = "http://desk.bench"
    try:
        database.migrate(workdir)
        env = desk_environment(database.url, redis_url, workdir, 0, "http://127.0.0.1:9")
        os.environ.update({**env, "PUBLIC_BASE_URL": base_url})
        from app import create_app
        from app.extensions import db
        from app.queueing import QUEUES, queue

        app = create_app()
        client = app.test_client()
        validator = RequestValidator(AUTH_TOKEN)
        recorder = Recorder()
        with app.app_context():
            instrument(db.engine, recorder)
        print(f"machine: {machine()}")
        print(f"database: {database.url.split('?')[0]}; {arguments.calls} calls walked in process\n")

        times: dict[str, list[float]] = {label: [] for label, _, _ in WALK}
        # One call in the middle (warm caches, a queue of some length) is the one shown.
        shown: list[Step] = []
        for number in range(arguments.calls):
            sid, caller = "CA" + uuid.uuid4().hex, f"+3247{number:07d}"
            steps = walk(client, validator, base_url, sid, caller, recorder if number == arguments.calls // 2 else None)
            for step in steps:
                times[step.label].append(step.seconds)
            if number == arguments.calls // 2:
                shown = steps
        for step in shown:
            print(f"{step.label}: {len(step.sql)} database calls, {len(step.redis)} Redis commands")
            for index, sql in enumerate(step.sql, 1):
                print(f"  {index:>2}. {sql[: arguments.width]}")
            for command in step.redis:
                print(f"   redis: {command}")
        print(f"\n{'webhook':<22}{'db calls':>10}{'median ms':>11}{'p90 ms':>9}")
        for step in shown:
            ordered = sorted(times[step.label])
            p90 = ordered[int(0.9 * (len(ordered) - 1))]
            median = statistics.median(ordered)
            print(f"{step.label:<22}{len(step.sql):>10}{1000 * median:>11.2f}{1000 * p90:>9.2f}")
        with app.app_context():
            for name in QUEUES:
                queue(name).empty()
            db.engine.dispose()
    finally:
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
