"""Many workers at once: 4 RQ worker processes, 500 callbacks and 20 emulated technicians.

The desk runs as in production: gunicorn serves the webhooks, RQ workers
dispatch, ``rq cron`` reconciles, and the emulator plays the provider.
Technicians accept, miss, stay silent or skip at random; customers answer, do
not, are busy or fail at random; a manager cancels callbacks now and then and
sets technicians who went away back to available. Every callback must end
exactly once in a final state, no technician may ever be on two callbacks nor
a callback on two technicians, and first offers must follow priority-then-FIFO.
"""

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import exists, func, select

from app.extensions import db
from app.models import (
    AttemptOutcome,
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    Technician,
    TechnicianState,
    TicketNote,
)
from app.queueing import QUEUES
from app.tickets.sql import SqlTicketStore
from callbacks import manage, technicians, triggers
from callbacks.queue import queue_callback
from emulator import APP_ERROR_MESSAGE, CallRecord, Phone, TwilioEmulator
from tests.helpers import ACCOUNT_SID, AUTH_TOKEN, build_app, empty_tables, free_port, redis_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
FINAL = {CallbackStatus.COMPLETED, CallbackStatus.UNREACHABLE, CallbackStatus.CANCELLED}
CUSTOMER_OUTCOMES = {AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER, AttemptOutcome.BUSY, AttemptOutcome.FAILED}
LANGUAGES = ("nl", "fr", "en")
#: Settings of every process of the rig: fast retries and sweeps so a run takes a minute, not hours.
RIG_SETTINGS = {
    "RETRY_INTERVAL_SECONDS": 1,
    "WRAP_UP_SECONDS": 0,
    "RECONCILE_SECONDS": 2,
    "MAX_ATTEMPTS": 3,
    "MAX_MISSED_OFFERS": 2,
}


def technician_phone(rng: random.Random) -> Phone:
    """Accept most offers; sometimes miss, stay silent at the whisper, or skip."""
    behaviour = rng.choices(["accept", "miss", "silent", "skip"], weights=[70, 12, 6, 12])[0]
    ring = rng.uniform(0, 0.05)
    if behaviour == "miss":
        return Phone(answer="no-answer")
    keys = {"accept": ["1"], "silent": ["", ""], "skip": ["2"]}[behaviour]
    return Phone(answer="answer", keys=keys, ring_seconds=ring)


def customer_phone(rng: random.Random) -> Phone:
    answer = rng.choices(["answer", "no-answer", "busy", "failed"], weights=[55, 25, 10, 10])[0]
    return Phone(answer=answer, talk_seconds=rng.randint(20, 600), ring_seconds=rng.uniform(0, 0.05))


@dataclass
class Rig:
    """The desk under load: gunicorn, RQ workers and rq cron as processes, the emulator in this one."""

    app: Flask
    emulator: TwilioEmulator
    environment: dict[str, str]
    logs: Path
    rng: random.Random
    technician_numbers: set[str] = field(default_factory=set)
    workers: list[subprocess.Popen] = field(default_factory=list)
    others: list[subprocess.Popen] = field(default_factory=list)

    def spawn(self, name: str, *command: str) -> subprocess.Popen:
        """A process in a session of its own: stop() ends it with everything it started (an RQ
        worker's scheduler is a child process, which outlives a worker killed with SIGKILL)."""
        log = (self.logs / f"{name}.log").open("w")
        return subprocess.Popen(
            [sys.executable, *command],
            env=self.environment,
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, queues: tuple[str, ...] = QUEUES) -> subprocess.Popen:
        """An RQ worker that runs jobs in its own process (the Procfile's worker)."""
        name = f"worker-{len(self.workers)}"
        options = ("--url", redis_url(), "--worker-class", "rq.worker.SimpleWorker", "--with-scheduler")
        worker = self.spawn(name, "-m", "rq.cli", "worker", *options, "--name", f"{name}-{os.getpid()}", *queues)
        self.workers.append(worker)
        return worker

    def phone_for(self, call: CallRecord) -> Phone:
        if call.to in self.technician_numbers:
            return technician_phone(self.rng)
        return customer_phone(self.rng)

    def stop(self) -> None:
        processes = self.workers + self.others
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # what it left behind (a killed worker's scheduler)
        self.emulator.stop()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for path in sorted(self.logs.glob("*.log"))
        )


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


@contextmanager
def running_rig(
    monkeypatch, database_url: str, tmp_path: Path, workers: int, seed: int, queues=QUEUES, **extra
) -> Iterator[Rig]:
    """Start the desk's processes and the emulator (workers serving ``queues``); stop them all afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = TwilioEmulator(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        voice_url=f"{url}/voice/incoming",
        status_url=f"{url}/voice/status",
        fallback_url=f"{url}/voice/fallback",
        webhook_timeout=30,
    ).start()
    settings = {**RIG_SETTINGS, **extra, "PUBLIC_BASE_URL": url, "TWILIO_API_BASE_URL": emulator.base_url}
    app = build_app(monkeypatch, database_url, tmp_path, **settings)
    empty_tables(app)
    logs = tmp_path / "logs"
    logs.mkdir()
    rig = Rig(app, emulator, {**os.environ, "PYTHONUNBUFFERED": "1"}, logs, random.Random(seed))
    emulator.phone_factory = rig.phone_for
    web = ("-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "app:create_app()")
    try:
        rig.others.append(rig.spawn("web", *web))
        wait_for_port(port)
        for _ in range(workers):
            rig.start_worker(queues)
        rig.others.append(rig.spawn("cron", "-m", "rq.cli", "cron", "--url", redis_url(), "callbacks.cron"))
        with app.app_context():
            yield rig
            db.session.remove()
            db.engine.dispose()
    finally:
        rig.stop()


def fill(rig: Rig, callbacks: int, technician_count: int) -> list[int]:
    """Technicians who speak every language, then callbacks of random priority, language and phone type."""
    for i in range(technician_count):
        number = f"+32471{i:06d}"
        rig.technician_numbers.add(number)
        db.session.add(Technician(name=f"Tech {i}", phone=number, languages="nl,fr,en", state=TechnicianState.OFFLINE))
    db.session.commit()
    store = SqlTicketStore()
    ids = []
    for i in range(callbacks):
        priority = rig.rng.randint(1, 4)
        number = f"+32470{i:06d}" if rig.rng.random() < 0.7 else f"+3232{i:06d}"
        ticket = store.create(title=f"problem {i}", priority=priority)
        ids.append(queue_callback(ticket, number, priority, rig.rng.choice(LANGUAGES))[0].id)
    return ids


def everyone_available() -> None:
    """The technicians start their day: each one going available triggers dispatch."""
    for technician_id in db.session.scalars(select(Technician.id)).all():
        assert technicians.set_state(technician_id, TechnicianState.AVAILABLE)
        db.session.commit()
        triggers.dispatch_now()


def assert_nobody_doubled() -> None:
    """At this instant: one open attempt per busy technician and per offered callback, and only for them.

    Each check is one statement, so it sees one consistent snapshot: a claim or
    an attempt's end moves technician, callback and attempt in one transaction.
    """
    is_open = CallbackAttempt.status != AttemptStatus.ENDED
    busy = (TechnicianState.OFFERED, TechnicianState.ON_CALL)
    offered = (CallbackStatus.OFFERED, CallbackStatus.IN_PROGRESS)
    open_per_technician = (
        select(CallbackAttempt.technician_id).where(is_open).group_by(CallbackAttempt.technician_id)
    ).having(func.count() > 1)
    open_per_callback = (
        select(CallbackAttempt.callback_id).where(is_open).group_by(CallbackAttempt.callback_id)
    ).having(func.count() > 1)
    has_open_attempt = exists().where(CallbackAttempt.technician_id == Technician.id, is_open)
    callback_has_open_attempt = exists().where(CallbackAttempt.callback_id == Callback.id, is_open)
    checks = {
        "technician on two callbacks": open_per_technician,
        "callback on two technicians": open_per_callback,
        "busy technician without an attempt": select(Technician.id).where(
            Technician.state.in_(busy), ~has_open_attempt
        ),
        "free technician with an attempt": select(Technician.id).where(Technician.state.not_in(busy), has_open_attempt),
        "offered callback without an attempt": select(Callback.id).where(
            Callback.status.in_(offered), ~callback_has_open_attempt
        ),
        "waiting or final callback with an attempt": select(Callback.id).where(
            Callback.status.not_in(offered), callback_has_open_attempt
        ),
    }
    for problem, statement in checks.items():
        assert db.session.scalars(statement).all() == [], problem
        db.session.rollback()


@dataclass
class Manager:
    """Cancels a callback now and then, and sets technicians who went away back to available."""

    rng: random.Random
    cancel_every: float
    cancels: int = 0
    refusals: Counter = field(default_factory=Counter)
    returned: int = 0
    last_cancel: float = field(default_factory=time.monotonic)

    def act(self) -> None:
        for technician_id in db.session.scalars(
            select(Technician.id).where(Technician.state == TechnicianState.AWAY)
        ).all():
            if technicians.set_state(technician_id, TechnicianState.AVAILABLE):
                db.session.commit()
                triggers.dispatch_now()
                self.returned += 1
        db.session.rollback()
        if time.monotonic() - self.last_cancel < self.cancel_every:
            return
        self.last_cancel = time.monotonic()
        open_ids = db.session.scalars(
            select(Callback.id).where(Callback.status.in_((CallbackStatus.WAITING, CallbackStatus.OFFERED)))
        ).all()
        if not open_ids:
            return
        try:
            manage.cancel(self.rng.choice(open_ids), by="the storm")
            self.cancels += 1
        except manage.Refused as refusal:
            self.refusals[refusal.status] += 1


def run_until_all_final(rig: Rig, manager: Manager, timeout: float) -> float:
    """Watch the desk (checking the invariants as it goes) until every callback is final."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert_nobody_doubled()
        manager.act()
        left = db.session.scalar(
            select(func.count()).select_from(Callback).where(Callback.status.not_in(FINAL))
        ) + db.session.scalar(
            select(func.count())
            .select_from(Callback)
            .where(Callback.status == CallbackStatus.UNREACHABLE, Callback.notice_sent_at.is_(None))
        )
        db.session.rollback()
        if left == 0:
            return time.monotonic() - started
        for worker in rig.workers:
            assert worker.poll() is None or worker.returncode == -9, rig.log_tail()
        time.sleep(0.2)
    raise AssertionError(f"not all callbacks final after {timeout} s\n{rig.log_tail()}")


def first_offer_displacement(callbacks: list[Callback], first_offer: dict[int, int]) -> int:
    """For each callback, how many callbacks ahead of it in the queue got their first offer after it."""
    offered = sorted((c for c in callbacks if c.id in first_offer), key=lambda c: (c.priority, c.queued_at, c.id))
    worst = 0
    for rank, callback in enumerate(offered):
        late_ahead = sum(1 for ahead in offered[:rank] if first_offer[ahead.id] > first_offer[callback.id])
        worst = max(worst, late_ahead)
    return worst


def check_the_outcome(rig: Rig, callback_ids: list[int]) -> dict[str, object]:
    """Every callback final exactly once; nobody doubled; first offers in queue order."""
    db.session.expire_all()
    callbacks = db.session.scalars(select(Callback).where(Callback.id.in_(callback_ids))).all()
    assert {c.status for c in callbacks} <= FINAL
    assert all(c.ended_at is not None for c in callbacks)
    all_attempts = db.session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id)).all()
    assert all(a.status == AttemptStatus.ENDED for a in all_attempts)
    per_callback: dict[int, list[CallbackAttempt]] = defaultdict(list)
    per_technician: dict[int, list[CallbackAttempt]] = defaultdict(list)
    for attempt in all_attempts:
        per_callback[attempt.callback_id].append(attempt)
        per_technician[attempt.technician_id].append(attempt)
    # One technician at a time per callback, one callback at a time per technician.
    for runs in (*per_callback.values(), *per_technician.values()):
        for before, after in pairwise(runs):
            assert after.started_at >= before.ended_at, (before.id, after.id)
    notes = Counter(
        (note.ticket_id, note.body.split(":")[0].split(" by ")[0]) for note in db.session.scalars(select(TicketNote))
    )
    texts = Counter(message["to"] for message in rig.emulator.messages)
    for callback in callbacks:
        tries = per_callback[callback.id]
        customer_calls = [a for a in tries if a.outcome in CUSTOMER_OUTCOMES]
        connected = [a for a in tries if a.outcome == AttemptOutcome.CONNECTED]
        assert callback.attempts == len(customer_calls), callback.id
        if callback.status == CallbackStatus.COMPLETED:
            assert len(connected) == 1 and tries[-1] is connected[0], callback.id
            assert notes[(callback.ticket_id, "Called back")] == 1
        elif callback.status == CallbackStatus.UNREACHABLE:
            assert not connected and callback.attempts == RIG_SETTINGS["MAX_ATTEMPTS"], callback.id
            assert notes[(callback.ticket_id, "Callback given up after 3 attempts")] == 1
            assert callback.notice_sent_at is not None
            assert texts[callback.phone] == (1 if callback.phone.startswith("+32470") else 0), callback.phone
        else:
            assert not connected, callback.id
    assert all(state != TechnicianState.ON_CALL for state in db.session.scalars(select(Technician.state)))
    first_offer = {callback_id: runs[0].id for callback_id, runs in per_callback.items() if runs}
    displacement = first_offer_displacement(callbacks, first_offer)
    # Claims take turns (callbacks/dispatch.py), so no first offer ever overtakes another.
    assert displacement == 0
    errors = [error for call in rig.emulator.calls.values() for error in call.errors]
    assert errors == []
    assert not any(APP_ERROR_MESSAGE in line for call in rig.emulator.calls.values() for line in call.heard)
    connection = Redis.from_url(redis_url())
    failed = {name: FailedJobRegistry(queue=Queue(name, connection=connection)).get_job_ids() for name in QUEUES}
    assert failed == {name: [] for name in QUEUES}
    gaps = [
        (after.started_at - before.ended_at).total_seconds()
        for runs in per_technician.values()
        for before, after in pairwise(runs)
    ]
    lengths = [(a.ended_at - a.started_at).total_seconds() for a in all_attempts]
    return {
        "attempt_seconds": round(sum(lengths) / len(lengths), 2),
        "technician_idle_seconds": round(sum(gaps) / len(gaps), 2),
        "statuses": Counter(c.status for c in callbacks),
        "outcomes": Counter(a.outcome for a in all_attempts),
        "first_offer_displacement": displacement,
    }


@pytest.mark.slow
def test_four_workers_work_500_callbacks_with_20_technicians(monkeypatch, migrated, tmp_path, redis):
    seed = int(os.environ.get("ENGINE_TEST_SEED", time.time()))
    with running_rig(monkeypatch, migrated, tmp_path, workers=4, seed=seed) as rig:
        filling = time.monotonic()
        callback_ids = fill(rig, callbacks=int(os.environ.get("ENGINE_TEST_CALLBACKS", 500)), technician_count=20)
        print(f"filled in {time.monotonic() - filling:.1f} s")
        everyone_available()
        manager = Manager(random.Random(seed), cancel_every=1.0)
        took = run_until_all_final(rig, manager, timeout=300)
        assert rig.emulator.wait_idle(timeout=30)
        summary = check_the_outcome(rig, callback_ids)
        print(f"seed {seed}: all final in {took:.1f} s; {summary}; cancels {manager.cancels}, {manager.refusals}")
        assert manager.cancels > 0
