"""Fault runs: a storm while things break, and proof that nothing was lost, doubled or forged.

    .venv/bin/python bench/faults.py                         # every fault, one storm each (about 15 minutes)
    .venv/bin/python bench/faults.py --fault redis-restart   # one of them
    .venv/bin/python bench/faults.py --together              # all faults in one storm (what CI runs, smaller)

Each run is a bench/storm.py storm (``--callers`` callers within ``--arrival`` s) on a
PostgreSQL cluster and a redis-server of its own (so restarting them disturbs nobody),
with one fault injected while calls are in the IVR and callbacks in the queue:

- ``worker-kill``      SIGKILL an ``rq worker`` and its work horse mid-job; a new worker starts 3 s later
- ``redis-restart``    SIGKILL Redis and start an empty one on the same port (no persistence: data gone)
- ``postgres-restart`` a fast shutdown of PostgreSQL, 3 s down, started again
- ``rest-500``         the provider's REST API answers 500 for 15 s
- ``rest-timeout``     the provider's REST API does not answer for 20 s (each request hangs past the timeout)
- ``twice``            every webhook delivered twice, the copies at the same moment
- ``forged``           forged requests mixed in all along: bad, missing and replayed signatures, tampered forms
- ``db-stall``         PostgreSQL and its backends SIGSTOPped for 12 s: stalled, not refusing
- ``redis-stall``      Redis SIGSTOPped for 12 s
- ``login-flood``      four clients post wrong passwords to /login as fast as they can for 20 s
- ``postgres-and-redis`` (only when named) PostgreSQL down, and Redis restarted empty while it is

Each prints what was injected and what survived: lost = 0, duplicated = 0, forged
accepted = 0 (and 5xx = 0, every call answered, every callback final, no webhook over 10 s); it exits
non-zero otherwise. Order violations are printed too, but are not required to be 0
here. A process that exits (an rq worker does when Redis goes away mid-job) is
restarted a second later, as the platform's process manager would.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from twilio.request_validator import RequestValidator

from bench.harness import ACCOUNT_SID, AUTH_TOKEN, DESK_NUMBER, Process
from bench.storm import Fault, Report, Storm, StormSettings, add_storm_arguments
from emulator.webhooks import WebhookResult, Webhooks

REST_500_SECONDS = 15
#: An rq worker's log line when it takes a job: "Worker <name>: dispatch: callbacks.jobs.dispatch() (<job id>)".
JOB_STARTED = re.compile(r"Worker \w+: (?:dispatch|notify): .*\(([0-9a-f-]{36})\)$")
REST_TIMEOUT_SECONDS = 20


class TwiceDelivered(Webhooks):
    """Every webhook is sent twice at the same moment, as a provider retrying on a slow answer might."""

    def send(self, url: str, params, method: str = "POST") -> WebhookResult:
        copy = threading.Thread(target=super().send, args=(url, params, method), daemon=True)
        copy.start()
        result = super().send(url, params, method)
        copy.join()
        return result


class ForgedTraffic(threading.Thread):
    """Forged webhooks mixed into the storm; every one must get 403 and change nothing.

    Kinds: a random signature, no signature, a signature made with another auth
    token, a genuine signature replayed to another URL, and a genuinely signed form
    whose Digits were changed afterwards. Targets include what an attacker would
    want: a new call, cancelling a real caller's callback, ending a real attempt.
    """

    def __init__(self, storm: Storm, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.storm = storm
        self.every = every
        self.random = random.Random(88)
        self.sent = 0
        self.accepted: list[str] = []
        self.forged_sids: list[str] = []

    def run(self) -> None:
        session = requests.Session()
        while not self.storm.stopping.wait(self.every):
            path, form, headers = self.forge()
            try:
                answer = session.post(self.storm.url + path, data=form, headers=headers, timeout=15)
            except requests.RequestException:
                continue
            self.sent += 1
            if answer.status_code != 403:
                self.accepted.append(f"{path} -> {answer.status_code}")

    def forge(self) -> tuple[str, dict[str, str], dict[str, str]]:
        real = [call for call in list(self.storm.inbound) if call.sid]
        kind = self.random.choice(("random", "missing", "other-token", "replayed", "tampered"))
        sid = "CA" + uuid.uuid4().hex
        caller = f"+32479{self.random.randrange(10**6):06d}"
        path = "/voice/incoming"
        form = {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": caller, "To": DESK_NUMBER, "CallStatus": "ringing"}
        if real and self.random.random() < 0.5:
            target = self.random.choice(real)
            path = self.random.choice(
                ("/voice/open-callback?try=0", "/voice/status?attempt=1", "/voice/agent/1/choice")
            )
            form = {**form, "CallSid": target.sid, "From": target.from_, "Digits": "2", "CallStatus": "completed"}
        else:
            self.forged_sids.append(sid)
        url = self.storm.url + path
        signature = base64.b64encode(self.random.randbytes(20)).decode()
        if kind == "other-token":
            signature = RequestValidator("not-" + AUTH_TOKEN).compute_signature(url, form)
        elif kind == "replayed":
            signature = RequestValidator(AUTH_TOKEN).compute_signature(self.storm.url + "/voice/main-menu?try=0", form)
        elif kind == "tampered":
            signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {**form, "Digits": "1"})
            form = {**form, "Digits": "2"}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if kind != "missing":
            headers["X-Twilio-Signature"] = signature
        return path, form, headers


class LoginFlood(threading.Thread):
    """Wrong passwords posted to /login as fast as one client can, for ``seconds``.

    Each attempt is a real form post (the page's CSRF token and cookie), for a known user or a
    made-up one, so the desk would hash a password for every one of them without its limits.
    """

    def __init__(self, storm: Storm, seconds: float, name: int) -> None:
        super().__init__(daemon=True)
        self.storm = storm
        self.seconds = seconds
        self.random = random.Random(name)
        self.answers: Counter = Counter()

    def run(self) -> None:
        session = requests.Session()
        deadline = time.monotonic() + self.seconds
        token = ""
        while time.monotonic() < deadline and not self.storm.stopping.is_set():
            try:
                if not token:
                    page = session.get(self.storm.url + "/login", timeout=15).text
                    found = re.search(r'name="csrf-token" content="([^"]+)"', page)  # the page's meta tag
                    token = found.group(1) if found else ""
                username = self.random.choice(("manager", "jan", f"nobody{self.random.randrange(10**6)}"))
                form = {"csrf_token": token, "username": username, "password": uuid.uuid4().hex}
                answer = session.post(self.storm.url + "/login", data=form, timeout=15, allow_redirects=False)
            except requests.RequestException:
                self.answers["no answer"] += 1
                continue
            self.answers[answer.status_code] += 1


class FaultStorm(Storm):
    """A storm whose report adds what the fault run must prove."""

    def __init__(self, settings: StormSettings, faults: list[Fault]) -> None:
        super().__init__(settings, faults)
        self.forged: ForgedTraffic | None = None
        self.login_flood: list[LoginFlood] = []

    def report(self, timings: dict[str, float | None]) -> Report:
        report = super().report(timings)
        # Printed, but not a must-be-zero figure of a fault run: while the provider refuses calls,
        # every claim is undone at once and concurrent dispatchers race (see docs/reliability.md).
        report.problems.pop("order violations", None)
        if self.forged is not None:
            self.forged.join(timeout=20)
            forged = set(self.forged.forged_sids)
            stored = sum(row.sid in forged for row in self.rows("SELECT sid FROM call"))
            cancelled = self.rows("SELECT count(*) FROM callback WHERE status = 'cancelled'")[0][0]
            accepted = len(self.forged.accepted) + stored + cancelled
            report.add(
                f"forged accepted:       {accepted} of {self.forged.sent} forged requests "
                f"({len(self.forged.accepted)} answered other than 403, {stored} forged calls stored, "
                f"{cancelled} callbacks cancelled)"
            )
            report.problems["forged accepted"] = accepted
        if self.login_flood:
            answers: Counter = Counter()
            for flood in self.login_flood:
                flood.join(timeout=30)
                answers.update(flood.answers)
            report.add(
                f"login flood:           {sum(answers.values())} wrong logins "
                f"({', '.join(f'{status}: {count}' for status, count in sorted(answers.items(), key=str))})"
            )
        return report


def running_a_job(worker: Process) -> bool:
    """Whether the worker's log shows a job started and not yet finished."""
    started = None
    for line in worker.log_path.read_text(errors="replace").splitlines()[-40:]:
        if match := JOB_STARTED.search(line):
            started = match[1]
        elif started and started in line and ("Job OK" in line or "failed" in line.lower()):
            started = None
    return started is not None


def kill_worker(storm: Storm) -> str:
    """SIGKILL an rq worker while it runs a job (its scheduler child with it); the watchdog restarts it."""
    assert storm.desk is not None
    deadline = time.monotonic() + 10
    victim, busy = storm.desk.worker_processes[0], False
    while time.monotonic() < deadline and not busy:
        for worker in storm.desk.worker_processes:
            if worker.alive and running_a_job(worker):
                victim, busy = worker, True
                break
        time.sleep(0.02)
    processes = victim.tree()
    victim.kill()
    state = "mid-job" if busy else "between jobs"
    return f"SIGKILL {victim.name} (pids {processes}, {state}); the process supervisor starts it again"


def restart_redis(storm: Storm) -> str:
    assert storm.redis is not None
    storm.redis.restart(down_seconds=2)
    return f"redis-server SIGKILLed, 2 s down, started empty on port {storm.redis.port}"


def restart_postgres(storm: Storm) -> str:
    assert storm.postgres is not None
    started = time.monotonic()
    storm.postgres.restart(down_seconds=3)
    return f"PostgreSQL fast shutdown, 3 s down, accepting again after {time.monotonic() - started:.0f} s"


#: How long a stall lasts: longer than the webhook budget, shorter than a provider's patience with a call.
STALL_SECONDS = 12


def stall(service: str) -> Callable[[Storm], str]:
    """SIGSTOP a service's whole process group (PostgreSQL's backends too), then SIGCONT: no error, no answer."""

    def inject(storm: Storm) -> str:
        private = storm.postgres if service == "postgres" else storm.redis
        assert private is not None and private.process is not None
        private.process.signal_group(signal.SIGSTOP)
        try:
            time.sleep(STALL_SECONDS)
        finally:
            private.process.signal_group(signal.SIGCONT)
        return f"{service} SIGSTOPped for {STALL_SECONDS} s, then continued"

    return inject


def postgres_and_redis(storm: Storm) -> str:
    """PostgreSQL down; while it is, Redis restarts empty; then PostgreSQL comes back."""
    assert storm.postgres is not None and storm.postgres.process is not None and storm.redis is not None
    storm.postgres.process.stop(signal.SIGINT, timeout=30)
    time.sleep(3)
    storm.redis.restart(down_seconds=1)
    time.sleep(2)
    storm.postgres.start()
    return "PostgreSQL down 6 s; Redis SIGKILLed and started empty meanwhile"


def rest_failing(mode: int | str, seconds: int) -> Callable[[Storm], str]:
    def inject(storm: Storm) -> str:
        assert storm.emulator is not None
        storm.emulator.fail_rest = mode
        time.sleep(seconds)
        storm.emulator.fail_rest = None
        return f"REST API answering {mode} for {seconds} s"

    return inject


def deliver_twice(storm: Storm) -> str:
    assert storm.emulator is not None
    webhooks = storm.emulator.webhooks
    storm.emulator.webhooks = TwiceDelivered(AUTH_TOKEN, webhooks.sink, webhooks.timeout)
    return "every webhook sent twice, at the same moment"


def send_forged(storm: Storm) -> str:
    assert isinstance(storm, FaultStorm)
    storm.forged = ForgedTraffic(storm)
    storm.forged.start()
    return "forged requests every 0.1 s"


#: Clients posting wrong passwords at once, and for how long.
LOGIN_FLOOD_CLIENTS = 4
LOGIN_FLOOD_SECONDS = 20


def flood_logins(storm: Storm) -> str:
    assert isinstance(storm, FaultStorm)
    storm.login_flood = [LoginFlood(storm, LOGIN_FLOOD_SECONDS, name) for name in range(LOGIN_FLOOD_CLIENTS)]
    for flood in storm.login_flood:
        flood.start()
    return f"{LOGIN_FLOOD_CLIENTS} clients posting wrong passwords to /login for {LOGIN_FLOOD_SECONDS} s"


def faults_at(at: float) -> dict[str, Fault]:
    """Every fault, the timed ones ``at`` seconds into the storm."""
    return {
        "worker-kill": Fault(at, "worker-kill", kill_worker),
        "redis-restart": Fault(at, "redis-restart", restart_redis),
        "postgres-restart": Fault(at, "postgres-restart", restart_postgres),
        "rest-500": Fault(at, "rest-500", rest_failing(500, REST_500_SECONDS)),
        "rest-timeout": Fault(at, "rest-timeout", rest_failing("timeout", REST_TIMEOUT_SECONDS)),
        "rest-late": Fault(at, "rest-late", rest_failing("late", REST_TIMEOUT_SECONDS)),
        "db-stall": Fault(at, "db-stall", stall("postgres")),
        "redis-stall": Fault(at, "redis-stall", stall("redis")),
        "login-flood": Fault(at, "login-flood", flood_logins),
        "postgres-and-redis": Fault(at, "postgres-and-redis", postgres_and_redis),
        "twice": Fault(-1, "twice", deliver_twice),
        "forged": Fault(-1, "forged", send_forged),
    }


def together(arrival: float) -> list[Fault]:
    """All faults in one storm, the timed ones spread over the arrivals."""
    step = arrival / 6
    every = faults_at(0)
    timed = ["worker-kill", "redis-restart", "postgres-restart", "rest-500"]
    faults = [Fault(step * (index + 1), name, every[name].action) for index, name in enumerate(timed)]
    return [*faults, every["twice"], every["forged"]]


def run(settings: StormSettings, faults: list[Fault]) -> Report:
    print(f"== fault run: {', '.join(fault.name for fault in faults)}", flush=True)
    report = FaultStorm(settings, faults).run()
    report.print()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_storm_arguments(parser, callers=60, arrival=30.0)
    parser.add_argument("--fault", action="append", choices=sorted(faults_at(0)), help="repeat for several runs")
    parser.add_argument("--together", action="store_true", help="every fault in one storm")
    arguments = parser.parse_args()
    settings = StormSettings(
        callers=arguments.callers,
        arrival_seconds=arguments.arrival,
        technicians=arguments.technicians,
        workers=arguments.workers,
        seed=arguments.seed,
        timeout=arguments.timeout,
        private_services=True,
    )
    if arguments.together:
        runs = [together(arguments.arrival)]
    else:
        every = faults_at(arguments.arrival * 0.4)
        runs = [[every[name]] for name in (arguments.fault or list(every))]
    failed = {}
    for faults in runs:
        report = run(settings, faults)
        problems = {name: count for name, count in report.problems.items() if count}
        if problems:
            failed[", ".join(fault.name for fault in faults)] = problems
        print(flush=True)
    if failed:
        raise SystemExit(f"FAILED: {failed}")
    print(f"all {len(runs)} fault runs: lost 0, duplicated 0, forged accepted 0")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
