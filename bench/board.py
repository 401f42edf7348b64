"""What the live pages cost on a busy day: the board's 2-second poll, the console, the API, the CSV.

    .venv/bin/python bench/board.py [--waiting 200] [--completed 1000] [--requests 40]
    DATABASE_URL=postgresql+psycopg://127.0.0.1/test .venv/bin/python bench/board.py

Builds a day with ``--waiting`` callbacks in the queue and ``--completed`` callbacks done
(each with a connected attempt), 12 technicians, then times each page in-process (Flask
test client: the app's own cost, without HTTP) and prints p50/p99 in milliseconds and how
many managers one web worker could keep live at a 2-second poll. SQLite in a temporary
file, or PostgreSQL in a schema of its own that is dropped afterwards. These pages enqueue
nothing, so Redis (``REDIS_URL``) is not written to.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from app.clock import utcnow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import Callback, CallbackAttempt, Company, Contact, ContactPhone, Technician, Ticket
from app.web.accounts import add_user, new_token

POLL_SECONDS = 2


def database_url(workdir: Path) -> tuple[str, str | None]:
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        return f"sqlite:///{workdir / 'bench.db'}", None
    schema = f"bench_board_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(configured).begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in configured else "?"
    return f"{configured}{separator}options=-csearch_path%3D{schema}", schema


def busy_day(waiting: int, completed: int) -> None:
    """A morning's worth of callbacks, attempts and technicians."""
    now = utcnow()
    technicians = [
        Technician(name=f"Technician {n}", phone=f"+3247000{n:04d}", languages="nl,en", state="available")
        for n in range(12)
    ]
    company = Company(name="Brouwerij De Klok", contract="wise")
    db.session.add_all([*technicians, company])
    db.session.flush()
    for n in range(waiting + completed):
        contact = Contact(name=f"Customer {n}", company=company, language="nl")
        contact.phones.append(ContactPhone(e164=f"+3247{n:07d}"))
        ticket = Ticket(number=f"T20260101.{n:04d}", title="Printer jammed", contact=contact, company=company)
        queued = now - timedelta(minutes=(n % 300) + 5)
        done = n >= waiting
        callback = Callback(
            ticket=ticket,
            phone=f"+3247{n:07d}",
            language="nl",
            priority=n % 4 + 1,
            status="completed" if done else "waiting",
            queued_at=queued,
            due_at=queued,
            ended_at=now - timedelta(minutes=n % 5) if done else None,
            attempts=1 if done else 0,
        )
        db.session.add_all([contact, ticket, callback])
        if done:
            db.session.flush()
            db.session.add(
                CallbackAttempt(
                    callback_id=callback.id,
                    technician_id=technicians[n % 12].id,
                    status="ended",
                    outcome="connected",
                    started_at=callback.ended_at - timedelta(minutes=4),
                    ended_at=callback.ended_at,
                    talk_seconds=180,
                )
            )
    db.session.commit()


def timed(client, path: str, requests: int, **headers) -> list[float]:
    durations = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        durations.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return durations


def log_in(client, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--completed", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url, schema = database_url(Path(workdir))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": workdir})
        try:
            with app.app_context():
                upgrade(revision="heads")
                busy_day(args.waiting, args.completed)
                add_user("bench-manager", "bench-password", "manager")
                token = new_token(add_user("bench-robot", "bench-password", "manager"))
                technician = db.session.scalars(sa.select(Technician)).first()
                add_user("bench-tech", "bench-password", "technician", technician)
            manager, tech, robot = app.test_client(), app.test_client(), app.test_client()
            log_in(manager, "bench-manager", "bench-password")
            log_in(tech, "bench-tech", "bench-password")
            print(
                f"{url.split(':')[0]}: {args.waiting} waiting, "
                f"{args.completed} completed today, 12 technicians; {args.requests} requests each"
            )
            pages = [
                ("board live (2 s poll)", manager, "/board/live", {}),
                ("console live (2 s poll)", tech, "/console/live", {}),
                ("API queue", robot, "/api/queue", {"Authorization": f"Bearer {token}"}),
                ("CSV export", manager, "/board/export.csv", {}),
            ]
            for label, client, path, headers in pages:
                durations = sorted(timed(client, path, args.requests, **headers))
                p50 = statistics.median(durations)
                p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
                line = f"  {label:<24} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms"
                if "poll" in label:
                    line += f"   ~{int(POLL_SECONDS * 1000 / p50)} open pages per web worker"
                print(line)
        finally:
            with app.app_context():
                db.engine.dispose()
            if schema:
                with sa.create_engine(os.environ["DATABASE_URL"]).begin() as connection:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
