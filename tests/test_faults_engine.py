"""Processes die and Redis forgets: within 60 s the desk is back on track, nothing lost or duplicated.

The rig of tests/test_concurrency_engine.py (gunicorn, RQ workers, rq cron, the
emulator) works a queue while a fault strikes: a worker is SIGKILLed while it is
dispatching (after its claim, before the technician's phone rings), or Redis is
flushed with every trigger, timer and notice job in it. Afterwards everything
open at the fault must have moved on within 60 seconds, and the whole queue
must end exactly as in the concurrency test.
"""

import os
import random
import signal
import time
from datetime import datetime

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus, Technician, TechnicianState
from tests.helpers import redis_url
from tests.test_concurrency_engine import (
    Manager,
    Rig,
    check_the_outcome,
    everyone_available,
    fill,
    run_until_all_final,
    running_rig,
)

#: DESIGN §4: a killed worker or a flushed Redis delays service by seconds, not minutes.
BACK_ON_TRACK_SECONDS = 60


def seed() -> int:
    return int(os.environ.get("ENGINE_TEST_SEED", time.time()))


def settled_since(fault: datetime) -> bool:
    """Everything open at the fault has moved on: attempts ended, wrap-ups over, notices sent."""
    open_then = db.session.scalar(
        select(func.count())
        .select_from(CallbackAttempt)
        .where(CallbackAttempt.status != AttemptStatus.ENDED, CallbackAttempt.started_at < fault)
    )
    wrapping_up = db.session.scalar(
        select(func.count())
        .select_from(Technician)
        .where(Technician.state == TechnicianState.WRAP_UP, Technician.wrap_up_until < fault)
    )
    untold = db.session.scalar(
        select(func.count())
        .select_from(Callback)
        .where(
            Callback.status == CallbackStatus.UNREACHABLE, Callback.notice_sent_at.is_(None), Callback.ended_at < fault
        )
    )
    claims_since = db.session.scalar(
        select(func.count()).select_from(CallbackAttempt).where(CallbackAttempt.started_at > fault)
    )
    work_left = db.session.scalar(
        select(func.count()).select_from(Callback).where(Callback.status == CallbackStatus.WAITING)
    )
    db.session.rollback()
    return open_then == wrapping_up == untold == 0 and (claims_since > 0 or work_left == 0)


def wait_until_back_on_track(rig: Rig, fault: datetime, manager: Manager) -> float:
    started = time.monotonic()
    while time.monotonic() - started < BACK_ON_TRACK_SECONDS:
        manager.act()
        if settled_since(fault):
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"not back on track {BACK_ON_TRACK_SECONDS} s after the fault\n{rig.log_tail()}")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        db.session.rollback()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s")


def busy_worker(rig: Rig) -> int | None:
    """The pid of our worker that is in a job right now."""
    ours = {worker.pid for worker in rig.workers if worker.poll() is None}
    for worker in Worker.all(connection=Redis.from_url(redis_url())):
        if worker.pid in ours and worker.get_current_job() is not None:
            return worker.pid
    return None


def unsent_mobile_notice() -> int | None:
    """An unreachable callback on a mobile number whose SMS has not gone yet."""
    return db.session.scalar(
        select(Callback.id).where(
            Callback.status == CallbackStatus.UNREACHABLE,
            Callback.notice_sent_at.is_(None),
            Callback.phone.startswith("+32470"),
        )
    )


def unrung_offer() -> int | None:
    """An offer claimed and committed whose technician has not been rung yet."""
    return db.session.scalar(
        select(CallbackAttempt.id).where(
            CallbackAttempt.status == AttemptStatus.RINGING_TECHNICIAN, CallbackAttempt.technician_call_sid.is_(None)
        )
    )


@pytest.mark.slow
def test_a_worker_killed_in_the_middle_of_dispatching_loses_nothing(monkeypatch, migrated, tmp_path, redis):
    run = seed()
    with running_rig(monkeypatch, migrated, tmp_path, workers=1, seed=run) as rig:
        callback_ids = fill(rig, callbacks=80, technician_count=10)
        manager = Manager(random.Random(run), cancel_every=5.0)
        # The provider hangs: the only worker claims a batch and sits in the REST call ringing its first technician.
        rig.emulator.fail_rest = "timeout"
        everyone_available()
        wait_for(unrung_offer, timeout=30, what="claim waiting for its ring")
        victim = wait_for(lambda: busy_worker(rig), timeout=10, what="worker in its dispatch job")
        fault = utcnow()
        os.kill(victim, signal.SIGKILL)
        rig.emulator.fail_rest = None
        for _ in range(3):  # the supervisor starts a new worker; two more help with the queue
            rig.start_worker()
        took = wait_until_back_on_track(rig, fault, manager)
        run_until_all_final(rig, manager, timeout=120)
        assert rig.emulator.wait_idle(timeout=30)
        summary = check_the_outcome(rig, callback_ids)
        print(f"seed {run}: back on track {took:.1f} s after the SIGKILL; {summary}")
        assert rig.workers[0].returncode == -signal.SIGKILL


@pytest.mark.slow
def test_a_redis_flushed_mid_run_loses_nothing(monkeypatch, migrated, tmp_path, redis):
    run = seed()
    # Nobody serves the notify queue at first, so "we tried to reach you" notices are still queued at the flush.
    rig_settings = {"workers": 3, "seed": run, "queues": ("dispatch",), "RETRY_INTERVAL_SECONDS": 3}
    with running_rig(monkeypatch, migrated, tmp_path, **rig_settings) as rig:
        callback_ids = fill(rig, callbacks=80, technician_count=10)
        manager = Manager(random.Random(run), cancel_every=5.0)
        everyone_available()
        # Mid-run: retries scheduled, dispatch triggers in flight, notices queued and not sent.
        wait_for(unsent_mobile_notice, timeout=90, what="unreachable mobile customer not told yet")
        fault = utcnow()
        Redis.from_url(redis_url()).flushdb()
        rig.start_worker()  # now the notify queue is served too
        took = wait_until_back_on_track(rig, fault, manager)
        run_until_all_final(rig, manager, timeout=120)
        assert rig.emulator.wait_idle(timeout=30)
        summary = check_the_outcome(rig, callback_ids)
        print(f"seed {run}: back on track {took:.1f} s after FLUSHDB; {summary}")
