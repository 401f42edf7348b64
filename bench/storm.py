"""A call storm: everyone phones at once, technicians work the queue down, nothing is lost.

    .venv/bin/python bench/storm.py                      # smoke run: 100 callers in 60 s
    .venv/bin/python bench/storm.py --callers 1000       # the company-wide outage (about 8 minutes)
    .venv/bin/python bench/storm.py --profile            # with py-spy profiles of the web and rq workers

The desk runs as the Procfile runs it — gunicorn, ``--workers`` ``rq worker``
processes and ``rq cron`` with the reconciler — on PostgreSQL (a schema of its own
at DATABASE_URL, default 127.0.0.1:5432/test) and Redis (BENCH_REDIS_URL, default
db 10 on 127.0.0.1:6379), with the emulator in this process standing in for the
provider. ``--callers`` callers arrive at random within ``--arrival`` seconds and go
through the whole IVR (language, main menu, a recorded problem, urgency, impact,
callback number; some key a wrong ticket number three times first; "cannot work"
with the whole company affected is P1 and put through live). ``--technicians``
emulated technicians answer agent-first callbacks with random outcomes (accept,
skip, miss; the customer answers, does not, is busy, or the call fails) and talk
for a few seconds of real time; a supervisor sets anyone the desk set away back to
available through the JSON API, as a technician would from the console.

Printed: calls answered, tickets, callbacks, 5xx, lost, duplicated, order
violations, webhook p50/p99, time-to-callback p50/p90 per priority, time to empty
the queue, and the peak RSS of the web and worker processes. The run is bounded by
``--timeout``; it stops by itself and exits non-zero when a must-be-zero figure is not.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
import sqlalchemy as sa

from bench.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DESK_NUMBER,
    Database,
    DeskProcesses,
    PrivatePostgres,
    PrivateRedis,
    RssSampler,
    access_log,
    desk_environment,
    free_port,
    load_average,
    machine,
    percentile,
    print_profile,
    profile,
)
from emulator import APP_ERROR_MESSAGE, CallRecord, Phone, TwilioEmulator

DEFAULT_DATABASE = "postgresql+psycopg://127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
TECHNICIAN_PREFIX = "+324990000"
#: The engine's timers, shortened so the storm's minutes hold what a morning's hours would.
ENGINE_SETTINGS = {
    "WRAP_UP_SECONDS": 1,
    "RETRY_INTERVAL_SECONDS": 5,
    "RECONCILE_SECONDS": 5,
    "UNRUNG_OFFER_SECONDS": 10,
    "STALE_OFFER_SECONDS": 30,
    "CALL_CHECK_SECONDS": 15,
    # An account raised above Twilio's default 1 call per second, as a desk of this size would ask for.
    "TWILIO_CPS": 20,
}
#: Share of outbound calls (to technicians and to customers) answered by an answering machine.
VOICEMAIL_SHARE = 0.1
#: Seconds of slack when judging queue order: a callback queued (or offered) this close to
#: another's claim may not have been visible to that claim's transaction yet.
ORDER_SLACK_SECONDS = 1.0
#: Seconds to wait, once the queue is empty, for tickets of callers rescued during a fault
#: (their promise is an RQ job, and a spool line the reconciler drains every sweep).
RESCUE_GRACE_SECONDS = 60
FINAL_STATUSES = ("completed", "unreachable", "cancelled")
#: DESIGN §11: every webhook answers within 10 s whatever stalls (the provider gives up at 15 s).
SLOW_WEBHOOK_MS = 10_000


@dataclass
class StormSettings:
    callers: int = 100
    arrival_seconds: float = 60.0
    technicians: int = 20
    workers: int = 3
    seed: int = 8
    timeout: float = 900.0
    database: str = "postgresql"
    #: A PostgreSQL cluster and a redis-server of our own, which a fault run may restart.
    private_services: bool = False
    redis_url: str = DEFAULT_REDIS
    extra_env: dict[str, object] = field(default_factory=dict)
    #: py-spy the web and worker processes while the callers arrive (and 30 s more).
    profile: bool = False


@dataclass(frozen=True)
class Fault:
    """Something done to the desk ``at`` seconds after the first caller (before it when negative)."""

    at: float
    name: str
    action: Callable[[Storm], str]


@dataclass
class Report:
    """What the storm measured; the must-be-zero figures are ``problems``."""

    lines: list[str] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)

    def add(self, text: str) -> None:
        self.lines.append(text)

    def print(self) -> None:
        print("\n".join(self.lines), flush=True)


class CallerBehaviour:
    """Random, reproducible people: callers' keys, technicians' and customers' phones."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def caller_keys(self) -> list[str]:
        with self.lock:
            chance = self.random.random
            keys = [self.random.choice("123")]  # language
            if chance() < 0.1:
                # A wrong ticket number three times, then the IVR goes on as a new problem.
                keys += ["1", "209901010001#", "209901010002#", "209901010003#"]
            else:
                keys.append("2")
            keys.append("the printer on the second floor is broken#")
            keys.append("2" if chance() < 0.4 else "1")  # cannot work?
            keys.append(self.random.choices("123", weights=(60, 30, 10))[0])  # who is affected
            keys.append("1")  # confirm the callback number
            return keys

    def phone(self, call: CallRecord) -> Phone:
        """The person who answers an outbound call: a technician, or a customer being called back."""
        with self.lock:
            chance = self.random.random
            ring = self.random.uniform(0.2, 1.5)
            talk = self.random.randint(1, 4)
            if chance() < VOICEMAIL_SHARE:
                # An answering machine, technician's or customer's: picks up first, never presses a key.
                return Phone.voicemail(ring_seconds=min(ring, 1.0))
            if call.to.startswith(TECHNICIAN_PREFIX):
                answer = "answer" if chance() < 0.95 else "no-answer"
                keys = self.random.choices((["1"], ["2"], []), weights=(92, 5, 3))[0]
                return Phone(answer, keys, talk, ring, real_time=True, hangup_when_done=bool(keys))
            answer = self.random.choices(("answer", "no-answer", "busy", "failed"), weights=(80, 10, 6, 4))[0]
            return Phone(answer, [], talk, ring, real_time=True, hangup_when_done=True)


class Storm:
    """One storm: the services, the desk, the emulator, the callers and technicians, the checks."""

    def __init__(self, settings: StormSettings, faults: list[Fault] | None = None) -> None:
        self.settings = settings
        self.faults = sorted(faults or [], key=lambda fault: fault.at)
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-storm-"))
        self.behaviour = CallerBehaviour(settings.seed)
        self.postgres: PrivatePostgres | None = None
        self.redis: PrivateRedis | None = None
        self.database: Database | None = None
        self.desk: DeskProcesses | None = None
        self.emulator: TwilioEmulator | None = None
        self.sampler: RssSampler | None = None
        self.inbound: list[CallRecord] = []
        self.injected: list[str] = []
        self.started = 0.0
        self.stopping = threading.Event()
        self.api_token = ""
        self.supervisor_resets = 0
        self.load_at_start = ""
        self.profiles: dict[str, list[Path]] = {}

    # -- setting up ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.desk is not None
        return f"http://127.0.0.1:{self.desk.port}"

    def start(self) -> None:
        settings = self.settings
        if settings.private_services:
            self.postgres = PrivatePostgres(self.workdir).start()
            self.redis = PrivateRedis(self.workdir).start()
            admin_url, redis_url = self.postgres.url, self.redis.url
        else:
            admin_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE) if settings.database == "postgresql" else ""
            redis_url = settings.redis_url
        self.database = Database.create(admin_url, self.workdir)
        self.database.migrate(self.workdir)
        port = free_port()
        self.emulator = TwilioEmulator(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            desk_number=DESK_NUMBER,
            voice_url=f"http://127.0.0.1:{port}/voice/incoming",
            status_url=f"http://127.0.0.1:{port}/voice/status",
            fallback_url=f"http://127.0.0.1:{port}/voice/fallback",
        ).start()
        self.emulator.phone_factory = self.behaviour.phone
        env = desk_environment(
            self.database.url,
            redis_url,
            self.workdir,
            port,
            self.emulator.base_url,
            **{**ENGINE_SETTINGS, **settings.extra_env},
        )
        self.seed_desk()
        self.desk = DeskProcesses(env, self.workdir, port, workers=settings.workers).start()
        self.sampler = RssSampler({"web": [self.desk.web], "worker": self.desk.worker_processes})
        self.sampler.start()

    def seed_desk(self) -> None:
        """Technicians at work (every one speaks the three languages) and a manager's API token."""
        from app import create_app
        from app.extensions import db
        from app.models import Technician
        from app.web.accounts import add_user, new_token

        assert self.database is not None
        app = create_app({"SQLALCHEMY_DATABASE_URI": self.database.url, "INSTANCE_PATH": str(self.workdir)})
        with app.app_context():
            for number in range(self.settings.technicians):
                db.session.add(
                    Technician(
                        name=f"Technician {number + 1}",
                        phone=f"{TECHNICIAN_PREFIX}{number:02d}",
                        languages="nl,fr,en",
                        state="available",
                    )
                )
            db.session.commit()
            self.api_token = new_token(add_user("storm-supervisor", "storm-supervisor-password", "manager"))
            db.session.remove()
            db.engine.dispose()

    # -- running ---------------------------------------------------------------------------------

    def run(self) -> Report:
        try:
            self.start()
            return self.storm()
        finally:
            self.stop()

    def storm(self) -> Report:
        settings = self.settings
        threading.Thread(target=self.supervise, daemon=True).start()
        for fault in self.faults:
            if fault.at < 0:
                self.injected.append(f"{fault.name} from the start: {fault.action(self)}")
        self.started = time.monotonic()
        self.load_at_start = load_average()
        if settings.profile:
            assert self.desk is not None and self.desk.web is not None
            seconds = settings.arrival_seconds + 30
            self.profiles = {
                "the gunicorn workers (webhooks)": profile(self.desk.web.tree()[1:], seconds, self.workdir),
                "the rq workers (dispatch path)": profile(
                    [worker.pid for worker in self.desk.worker_processes], seconds, self.workdir
                ),
            }
        threading.Thread(target=self.inject_faults, daemon=True).start()
        arrival = random.Random(settings.seed)
        arrivals = sorted(arrival.uniform(0, settings.arrival_seconds) for _ in range(settings.callers))
        with ThreadPoolExecutor(max_workers=256, thread_name_prefix="caller") as callers:
            for index, at in enumerate(arrivals):
                delay = self.started + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if self.time_left() <= 0:
                    break
                callers.submit(self.phone_in, index)
            last_arrival = time.monotonic()
        all_over = time.monotonic()
        emptied = self.wait_for_empty_queue()
        self.stopping.set()
        assert self.emulator is not None
        self.emulator.wait_idle(timeout=60)
        timings = {
            "arrivals": last_arrival - self.started,
            "all calls over": all_over - self.started,
            "queue empty": (emptied - self.started) if emptied else None,
        }
        return self.report(timings)

    def time_left(self) -> float:
        return self.started + self.settings.timeout - time.monotonic()

    def phone_in(self, index: int) -> None:
        assert self.emulator is not None
        keys = self.behaviour.caller_keys()
        call = self.emulator.place_inbound_call(from_=f"+32470{index:06d}", keys=keys, hangup_when_done=True)
        self.inbound.append(call)

    def open_work(self) -> int:
        """Callbacks not yet in a final state, plus urgent calls still ringing or connected."""
        callbacks = self.rows(
            "SELECT count(*) FROM callback WHERE status NOT IN ('completed', 'unreachable', 'cancelled')"
        )
        urgent = self.rows("SELECT count(*) FROM urgent_transfer WHERE status IN ('ringing', 'oncall', 'connected')")
        return callbacks[0][0] + urgent[0][0]

    def without_ticket(self) -> int:
        """Callers whose call is over but who have no ticket (yet)."""
        with_ticket = {row.origin_call_sid for row in self.rows("SELECT origin_call_sid FROM ticket")}
        return sum(call.sid not in with_ticket for call in list(self.inbound))

    def wait_for_empty_queue(self) -> float | None:
        """Until every callback is final (still so a sweep later), or the time is up."""
        empty_since = None
        while self.time_left() > 0:
            try:
                open_now = self.open_work()
            except sa.exc.OperationalError:
                open_now = -1  # the database is being restarted by a fault run
            if open_now == 0:
                empty_since = empty_since or time.monotonic()
                quiet = time.monotonic() - empty_since
                settled = quiet >= ENGINE_SETTINGS["RECONCILE_SECONDS"] + 1
                if settled and (quiet > RESCUE_GRACE_SECONDS or not self.without_ticket()):
                    return empty_since
            else:
                empty_since = None
            time.sleep(0.5)
        return None

    def supervise(self) -> None:
        """A technician set away after missed offers comes back, as from the console (JSON API)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.api_token}"
        while not self.stopping.wait(2.0):
            try:
                listing = session.get(f"{self.url}/api/technicians", timeout=10).json()["technicians"]
                for technician in listing:
                    if technician["state"] == "away":
                        answer = session.post(
                            f"{self.url}/api/technicians/{technician['id']}/state",
                            json={"state": "available"},
                            timeout=10,
                        )
                        self.supervisor_resets += answer.status_code == 200
            except (requests.RequestException, ValueError, KeyError):
                continue  # a fault run may have the desk's database down for a moment

    def inject_faults(self) -> None:
        for fault in self.faults:
            if fault.at < 0:
                continue  # done before the first caller
            delay = self.started + fault.at - time.monotonic()
            if delay > 0 and self.stopping.wait(delay):
                return
            at = time.monotonic() - self.started
            detail = fault.action(self)
            self.injected.append(f"{fault.name} at {at:.0f} s: {detail}")
            print(f"  injected: {self.injected[-1]}", flush=True)

    def stop(self) -> None:
        self.stopping.set()
        if self.sampler is not None:
            self.sampler.stop()
        if self.desk is not None:
            self.desk.stop()
        if self.emulator is not None:
            self.emulator.stop()
        if self.database is not None and self.postgres is None:
            self.database.drop()
        for service in (self.redis, self.postgres):
            if service is not None:
                service.stop()
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"work directory kept: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- the figures -----------------------------------------------------------------------------

    def rows(self, sql: str) -> list[sa.Row]:
        assert self.database is not None
        engine = sa.create_engine(self.database.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                return list(connection.execute(sa.text(sql)))
        finally:
            engine.dispose()

    def report(self, timings: dict[str, float | None]) -> Report:
        for title, files in self.profiles.items():
            deadline = time.monotonic() + self.settings.arrival_seconds + 60
            while not all(path.exists() for path in files) and time.monotonic() < deadline:
                time.sleep(1)
            print_profile(files, title)
        report = Report()
        settings = self.settings
        calls = list(self.inbound)
        answered = [call for call in calls if call.status == "completed" and APP_ERROR_MESSAGE not in call.heard]
        tickets = self.rows("SELECT id, origin_call_sid FROM ticket")
        callbacks = self.rows("SELECT id, ticket_id, phone, priority, status, queued_at FROM callback")
        attempts = self.rows(
            "SELECT id, callback_id, technician_id, outcome, started_at, ended_at, talk_seconds, answered_by "
            "FROM callback_attempt ORDER BY id"
        )
        transfers = self.rows("SELECT call_sid, status FROM urgent_transfer")

        ticket_by_sid = {ticket.origin_call_sid: ticket for ticket in tickets}
        callbacks_by_ticket: dict[int, list] = defaultdict(list)
        for callback in callbacks:
            callbacks_by_ticket[callback.ticket_id].append(callback)
        put_through = {transfer.call_sid for transfer in transfers if transfer.status in ("connected", "ended")}
        lost = [
            call.sid
            for call in calls
            if call.sid not in ticket_by_sid
            or (not callbacks_by_ticket.get(ticket_by_sid[call.sid].id) and call.sid not in put_through)
        ]
        # Callbacks not final, and urgent calls still ringing or put through: a technician held by one
        # whose end never reached the desk is as stuck as a callback.
        still_open = [callback for callback in callbacks if callback.status not in FINAL_STATUSES] + [
            transfer for transfer in transfers if transfer.status in ("ringing", "oncall", "connected")
        ]
        duplicated = self.duplicates(callbacks, attempts)
        violations = order_violations(callbacks, attempts)
        assert self.desk is not None and self.desk.web is not None and self.emulator is not None
        log = access_log(self.desk.web.log_path)
        # The promise of DESIGN §2 is for provider webhooks; the API may answer 5xx while the database is down.
        server_errors = sum(status >= 500 for status, _, path in log if path.startswith("/voice/"))
        other_errors = Counter(path for status, _, path in log if status >= 500 and not path.startswith("/voice/"))
        unanswered_webhooks = sum(1 for entry in list(self.emulator.requests) if entry["status"] is None)
        webhooks = [ms for _, ms, path in log if path.startswith("/voice/")]

        report.add(f"machine: {machine()}")
        database = self.database.url.split("?")[0].split("@")[-1] if self.database else ""
        report.add(
            f"storm: {len(calls)} callers in {timings['arrivals']:.0f} s, {settings.technicians} technicians, "
            f"{settings.workers} rq workers, {self.desk.env.get('WEB_CONCURRENCY', '2')} gunicorn workers, {database}"
        )
        for line in self.injected:
            report.add(f"injected: {line}")
        by_status = ", ".join(
            f"{status} {count}" for status, count in sorted(Counter(c.status for c in callbacks).items())
        )
        outcomes = ", ".join(f"{outcome} {count}" for outcome, count in Counter(a.outcome for a in attempts).items())
        report.add(f"calls answered:        {len(answered)} of {len(calls)}")
        report.add(f"tickets:               {len(tickets)}")
        report.add(f"callbacks:             {len(callbacks)} ({by_status})")
        report.add(f"urgent put through:    {len(put_through)} of {len(transfers)} urgent calls")
        report.add(f"attempts:              {len(attempts)} ({outcomes})")
        machines = [c for c in list(self.emulator.calls.values()) if (c.answered_by or "").startswith("machine")]
        machine_sids = {c.sid for c in machines}
        voicemail_connected = sum(
            1 for a in attempts if a.outcome == "connected" and (a.answered_by or "").startswith("machine")
        )
        bridged_to_machine = sum(
            1 for c in machines if c.to.startswith(TECHNICIAN_PREFIX) and any(e == "bridged" for e, _ in c.events)
        )
        report.add(
            f"answering machines:    {len(machine_sids)} legs answered by one; {voicemail_connected} counted as "
            f"connected; {bridged_to_machine} urgent or callback technician legs bridged to one"
        )
        report.add(f"set back available:    {self.supervisor_resets} times, by the supervisor")
        if self.desk.restarts:
            report.add(f"processes restarted:   {dict(self.desk.restarts)} (they had exited)")
        report.add(
            f"5xx:                   {server_errors} (webhooks that got no answer at all: {unanswered_webhooks})"
        )
        if other_errors:
            report.add(f"  5xx outside the webhooks: {dict(other_errors)}")
        cancelled = {callback.phone for callback in callbacks if callback.status == "cancelled"}
        for call in calls:
            if call.from_ in cancelled:
                report.add(f"  callback of {call.from_} cancelled; the caller heard {call.heard[-4:]}")
        report.add(f"lost:                  {len(lost)}")
        by_sid = {call.sid: call for call in calls}
        for sid in lost[:5]:
            call = by_sid[sid]
            report.add(f"  lost {sid} from {call.from_}: heard {call.heard[-3:]}, events {call.events[-4:]}")
        report.add(f"still open at the end: {len(still_open)}")
        shown = {name: count for name, count in duplicated.items() if count}
        report.add(f"duplicated:            {sum(duplicated.values())} {shown or ''}")
        per_phone = Counter(callback.phone for callback in callbacks)
        for phone in sorted(number for number, count in per_phone.items() if count > 1):
            twins = [callback for callback in callbacks if callback.phone == phone]
            report.add(
                f"  callbacks of {phone}: "
                + "; ".join(
                    f"#{c.id} ticket {c.ticket_id} P{c.priority} {c.status} queued {c.queued_at:%H:%M:%S.%f}"
                    for c in twins
                )
            )
        if duplicated["same SMS twice"]:
            timeouts = sum(
                log_path.read_text(errors="replace").count("Read timed out")
                for log_path in self.workdir.glob("worker-*.log")
            )
            report.add(f"  provider REST calls that timed out in the workers (an SMS is retried then): {timeouts}")
        lateness = sorted(late for late, _ in violations)
        report.add(
            f"order violations:      {len(violations)}"
            + (
                f" (the one passed over was offered {percentile(lateness, 0.5):.1f} s later at the median, "
                f"{lateness[-1]:.1f} s at most; {sum(late > 5 for late in lateness)} more than 5 s)"
                if violations
                else ""
            )
        )
        for _, violation in sorted(violations, reverse=True)[:5]:
            report.add(f"  {violation}")
        slow = sum(took > SLOW_WEBHOOK_MS for took in webhooks)
        report.add(
            f"webhooks:              {len(webhooks)}, p50 {percentile(webhooks, 0.5):.1f} ms, "
            f"p99 {percentile(webhooks, 0.99):.1f} ms, max {max(webhooks, default=0):.0f} ms, "
            f"{slow} over {SLOW_WEBHOOK_MS // 1000} s (gunicorn's request time)"
        )
        report.add("time to callback (queued until the customer answered), seconds:")
        for priority, values in sorted(time_to_callback(callbacks, attempts).items()):
            p50, p90 = percentile(values, 0.5), percentile(values, 0.9)
            report.add(f"  P{priority}: {len(values)} callbacks, p50 {p50:.0f}, p90 {p90:.0f}")
        empty = timings["queue empty"]
        if empty is None:
            report.add("queue empty:           NOT within the time limit")
        else:
            after_last = empty - (timings["arrivals"] or 0)
            report.add(
                f"queue empty:           {empty:.0f} s after the first caller, {after_last:.0f} s after the last"
            )
        if self.sampler is not None:
            for role in ("web", "worker"):
                total, largest = self.sampler.peak_total[role] / 1024, self.sampler.peak_single[role] / 1024
                report.add(f"peak RSS {role:<6}:       {total:.0f} MiB all processes, {largest:.0f} MiB largest one")
        report.add(f"load average: {self.load_at_start} at the start, {load_average()} at the end")
        report.problems = {
            "5xx": server_errors,
            "lost": len(lost),
            "still open": len(still_open),
            "duplicated": sum(duplicated.values()),
            "order violations": len(violations),
            "calls not answered": len(calls) - len(answered),
            "webhooks over 10 s": slow,
        }
        return report

    def duplicates(self, callbacks: list, attempts: list) -> Counter:
        """A second callback for one caller, a callback connected twice, an SMS sent twice, a double booking."""
        found: Counter = Counter()
        per_phone = Counter(callback.phone for callback in callbacks)
        found["second callback for a caller"] = sum(count - 1 for count in per_phone.values() if count > 1)
        connected = Counter(attempt.callback_id for attempt in attempts if attempt.outcome == "connected")
        found["callback connected twice"] = sum(count - 1 for count in connected.values() if count > 1)
        assert self.emulator is not None
        texts = Counter((message["to"], message["body"]) for message in list(self.emulator.messages))
        found["same SMS twice"] = sum(count - 1 for count in texts.values() if count > 1)
        found["technician on two attempts at once"] = overlapping_attempts(attempts)
        return found


def overlapping_attempts(attempts: list) -> int:
    """Attempts of one technician whose open intervals overlap (never two callbacks at once)."""
    by_technician: dict[int, list] = defaultdict(list)
    for attempt in attempts:
        by_technician[attempt.technician_id].append(attempt)
    overlaps = 0
    for rows in by_technician.values():
        rows.sort(key=lambda row: row.started_at)
        for earlier, later in itertools.pairwise(rows):
            if earlier.ended_at is None or later.started_at < earlier.ended_at:
                overlaps += 1
    return overlaps


def time_to_callback(callbacks: list, attempts: list) -> dict[int, list[float]]:
    """Per priority: from joining the queue until the customer answered (the board's definition)."""
    queued = {callback.id: callback for callback in callbacks}
    result: dict[int, list[float]] = defaultdict(list)
    for attempt in attempts:
        if attempt.outcome != "connected" or attempt.ended_at is None:
            continue
        callback = queued[attempt.callback_id]
        answered = attempt.ended_at - timedelta(seconds=attempt.talk_seconds or 0)
        result[callback.priority].append(max(0.0, (answered - callback.queued_at).total_seconds()))
    return result


def order_violations(callbacks: list, attempts: list) -> list[tuple[float, str]]:
    """First offers that jumped the queue (priority first, then first come): how late the other one was, and why.

    Callback C's first offer is a violation when another callback D that should
    come before it (higher priority, or the same and queued earlier) had been
    waiting since before C's claim and was still not offered after it. Every
    technician speaks every language here, so language never excuses a jump.
    """
    first_offer: dict[int, datetime] = {}
    for attempt in attempts:
        first_offer.setdefault(attempt.callback_id, attempt.started_at)
    slack = timedelta(seconds=ORDER_SLACK_SECONDS)
    violations = []
    for callback in callbacks:
        claimed_at = first_offer.get(callback.id)
        if claimed_at is None:
            continue
        for other in callbacks:
            if (other.priority, other.queued_at) >= (callback.priority, callback.queued_at):
                continue
            other_offer = first_offer.get(other.id)
            waiting_before = other.queued_at < claimed_at - slack
            still_waiting_after = (other_offer is None and other.status != "cancelled") or (
                other_offer is not None and other_offer > claimed_at + slack
            )
            if waiting_before and still_waiting_after:
                late = (other_offer - claimed_at).total_seconds() if other_offer else float("inf")
                violations.append(
                    (
                        late,
                        f"callback {callback.id} (P{callback.priority}, queued {callback.queued_at:%H:%M:%S.%f}) "
                        f"offered at {claimed_at:%H:%M:%S.%f} while {other.id} (P{other.priority}, queued "
                        f"{other.queued_at:%H:%M:%S.%f}) waited until {other_offer and f'{other_offer:%H:%M:%S.%f}'}",
                    )
                )
                break
    return violations


def settings_from(arguments: argparse.Namespace) -> StormSettings:
    return StormSettings(
        callers=arguments.callers,
        arrival_seconds=arguments.arrival,
        technicians=arguments.technicians,
        workers=arguments.workers,
        seed=arguments.seed,
        timeout=arguments.timeout,
        database=arguments.database,
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        profile=arguments.profile,
    )


def add_storm_arguments(parser: argparse.ArgumentParser, callers: int = 100, arrival: float = 60.0) -> None:
    parser.add_argument("--callers", type=int, default=callers)
    parser.add_argument("--arrival", type=float, default=arrival, help="seconds over which the callers arrive")
    parser.add_argument("--technicians", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="rq worker processes")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900.0, help="hard limit of the whole run, seconds")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_storm_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="py-spy the web and rq workers while callers arrive")
    arguments = parser.parse_args()
    report = Storm(settings_from(arguments)).run()
    report.print()
    failed = {name: count for name, count in report.problems.items() if count}
    if failed:
        raise SystemExit(f"FAILED: {failed}")


if __name__ == "__main__":
    main()
