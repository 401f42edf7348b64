"""Logs for people: one readable line per event, each printed once, and no heartbeat from periodic jobs."""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rq import Queue

from app.queueing import redis_connection
from callbacks.reconciler import reconcile
from emulator import Phone
from tests.helpers import add_technician

PROJECT = Path(__file__).resolve().parent.parent
JAN = "+32470000001"
CUSTOMER = "+32475987654"


def procfile_worker(desk) -> list[str]:
    """The Procfile's worker command line, pointed at this test's Redis and run until its queues are empty."""
    line = next(line for line in (PROJECT / "Procfile").read_text().splitlines() if line.startswith("worker:"))
    words = line.removeprefix("worker:").split()
    words[words.index("-c") : words.index("-c") + 2] = ["--url", desk.app.config["REDIS_URL"]]
    return [sys.executable, "-m", "rq.cli", *words[1:], "--burst"]


@pytest.fixture
def desk_settings() -> dict:
    """A technician who misses one offer is set away, so a missed offer is not made again."""
    return {"MAX_MISSED_OFFERS": 1}


def run_worker(desk) -> list[str]:
    """Run the Procfile's worker over the queued jobs; the lines it printed."""
    worker = subprocess.run(procfile_worker(desk), env=os.environ.copy(), capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    return [line for line in (worker.stdout + worker.stderr).splitlines() if line.strip()]


def test_an_idle_reconciler_sweep_says_nothing(app, caplog):
    caplog.set_level(logging.INFO)
    assert not any(reconcile().values())
    assert [record for record in caplog.records if record.levelno >= logging.INFO] == []


def test_the_worker_prints_an_offer_once_and_no_job_chatter(desk):
    add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="no-answer"))
    call = desk.emulator.place_inbound_call(from_=CUSTOMER, keys=["3", "2", "#", "1", "1", "1"])
    assert "You are number 1 in the callback queue." in " ".join(call.heard)
    Queue("dispatch", connection=redis_connection()).enqueue("callbacks.jobs.reconcile")
    lines = run_worker(desk)
    offers = [line for line in lines if re.search(r"callback \d+ offered to Jan Janssens", line)]
    assert len(offers) == 1, lines
    # RQ's own lines (a job started, done, its result kept) stay out of the way under --quiet.
    assert not [line for line in lines if "Job OK" in line or "Successfully completed" in line], lines
    # Each line once: not again through a second handler (the time stamp aside).
    events = [line.split(" ", 2)[-1] for line in lines]
    assert len(events) == len(set(events)), lines


def test_a_phoned_in_problem_reads_as_a_handful_of_events(desk, caplog):
    caplog.set_level(logging.INFO)
    add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"]))
    desk.emulator.place_inbound_call(from_=CUSTOMER, keys=["3", "2", "#", "2", "2", "1"])
    for _ in range(2):
        desk.run_jobs()
        desk.emulator.wait_idle(timeout=15)
    lines = [
        record.getMessage() for record in caplog.records if record.name.split(".")[0] in ("app", "ivr", "callbacks")
    ]
    expected = [
        rf"call CA\w+ from \{CUSTOMER}",
        r"ticket T\d{8}\.\d{4} opened \(P2\)",
        rf"callback \d+ queued: P2, \{CUSTOMER}",
        r"callback \d+ offered to Jan Janssens",
        r"callback \d+ accepted by Jan Janssens",
        r"ticket T\d{8}\.\d{4}: Called back by Jan Janssens: connected",
    ]
    for pattern in expected:
        assert any(re.match(pattern, line) for line in lines), (pattern, lines)
    assert len(lines) <= 12, lines
