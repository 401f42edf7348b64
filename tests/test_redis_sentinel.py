"""REDIS_URL through Sentinel (DESIGN §1): the URL, and a desk that keeps working across a failover.

The Sentinel tests run real servers: a Redis master, its replica and a sentinel
(``redis-server --sentinel``) on free loopback ports. The desk, an ``rq worker``
and ``rq cron`` (the Procfile's ``-c app.rq_settings``) reach them with one
``redis+sentinel://`` URL; the master is then shut down and the replica promoted.
"""

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis import Redis
from rq.cron import CronScheduler
from sqlalchemy import select

from app import preflight
from app.extensions import db
from app.models import Callback, CallbackAttempt
from app.redis_url import RedisUrlError, connect, redacted, rq_cli_settings, sentinel_target
from emulator import APP_ERROR_MESSAGE, Phone
from tests.helpers import add_technician, build_app, free_port

ROOT = Path(__file__).resolve().parent.parent
MASTER_NAME = "desk"


# --- The URL ---------------------------------------------------------------------------------------


def test_a_plain_url_is_not_a_sentinel_url():
    assert sentinel_target("redis://127.0.0.1:6379/0") is None
    assert rq_cli_settings("redis://127.0.0.1:6379/3") == {"REDIS_URL": "redis://127.0.0.1:6379/3", "SENTINEL": None}


def test_a_sentinel_url_names_the_sentinels_the_master_and_the_database():
    target = sentinel_target("redis+sentinel://:s%40cret@10.0.0.1:26380,10.0.0.2,[::1]:26381/desk/2")
    assert target.instances == [("10.0.0.1", 26380), ("10.0.0.2", 26379), ("::1", 26381)]
    assert (target.master, target.db, target.username, target.password, target.ssl) == (
        "desk",
        2,
        None,
        "s@cret",
        False,
    )
    tls = sentinel_target("rediss+sentinel://app:pw@s1/desk?sentinel_password=other")
    assert (tls.db, tls.username, tls.password, tls.sentinel_password, tls.ssl) == (0, "app", "pw", "other", True)
    sentinel = rq_cli_settings("redis+sentinel://:pw@s1:26379/desk/4")["SENTINEL"]
    assert (sentinel["INSTANCES"], sentinel["MASTER_NAME"], sentinel["DB"], sentinel["PASSWORD"]) == (
        [("s1", 26379)],
        "desk",
        4,
        "pw",
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("redis+sentinel:///desk", "names no sentinel"),
        ("redis+sentinel://s1:26379", "must end in /master_name"),
        ("redis+sentinel://s1:26379/desk/zero", "the database must be a number"),
        ("redis+sentinel://s1:port/desk", "has no valid port"),
        ("redis+sentinel://:secret@s1:x/desk", "has no valid port"),
    ],
)
def test_a_malformed_sentinel_url_stops_the_desk_at_start_saying_why(monkeypatch, migrated, tmp_path, url, complaint):
    with pytest.raises(RedisUrlError, match=complaint) as raised:
        build_app(monkeypatch, migrated, tmp_path, REDIS_URL=url)
    assert "secret" not in str(raised.value)


def test_passwords_never_reach_a_log_line():
    assert redacted("redis://:hunter2@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redacted("redis+sentinel://app:hunter2@s1,s2/desk/1?sentinel_password=x2") == (
        "redis+sentinel://app:***@s1,s2/desk/1?sentinel_password=***"
    )
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


# --- A desk on Sentinel ---------------------------------------------------------------------------


@dataclass
class SentinelRedis:
    """A master, its replica and one sentinel watching them, each a real redis-server."""

    folder: Path
    master_port: int = field(default_factory=free_port)
    replica_port: int = field(default_factory=free_port)
    sentinel_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{MASTER_NAME}/0"

    def start(self) -> "SentinelRedis":
        server = shutil.which("redis-server")
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self._spawn([server, "--port", str(self.master_port), *common])
        self._spawn(
            [server, "--port", str(self.replica_port), "--replicaof", "127.0.0.1", str(self.master_port), *common]
        )
        # The sentinel learns of replicas from the master's INFO, then only every 10 s: start it once one is there.
        self.wait_until(lambda: self._connected_replicas() >= 1, "the replica to follow the master")
        config = self.folder / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.folder}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master_port} 1\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 500\n"
            f"sentinel failover-timeout {MASTER_NAME} 3000\n"
        )
        self._spawn([server, str(config), "--sentinel"])
        self.wait_until(lambda: self.master_port_now() == self.master_port, "the sentinel to know the master")
        self.wait_until(self._replica_known, "the sentinel to know the replica")
        return self

    def _spawn(self, command: list[str]) -> None:
        self.processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def master_port_now(self) -> int | None:
        try:
            sentinel = Redis(port=self.sentinel_port, socket_timeout=1, decode_responses=True)
            address = sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        except Exception:
            return None
        return int(address[1]) if address else None

    def _connected_replicas(self) -> int:
        try:
            return Redis(port=self.master_port, socket_timeout=1).info("replication")["connected_slaves"]
        except Exception:
            return 0

    def _replica_known(self) -> bool:
        try:
            replicas = Redis(port=self.sentinel_port, socket_timeout=1).sentinel_slaves(MASTER_NAME)
            return any(int(replica["port"]) == self.replica_port for replica in replicas)
        except Exception:
            return False

    def fail_over(self) -> None:
        """Shut the master down and wait for the sentinel to promote the replica."""
        Redis(port=self.master_port).shutdown(nosave=True)
        self.wait_until(lambda: self.master_port_now() == self.replica_port, "the replica to be promoted", 20)

    @staticmethod
    def wait_until(condition, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"waited {timeout} s for {what}")

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


@pytest.fixture
def sentinel(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (Debian: apt-get install redis-server)")
    folder = tmp_path / "sentinel"
    folder.mkdir()
    servers = SentinelRedis(folder).start()
    yield servers
    servers.stop()


@pytest.fixture
def desk_settings(sentinel):
    return {"REDIS_URL": sentinel.url}


def rq(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The rq command line as the Procfile runs it, in the desk's environment."""
    return subprocess.run(
        [sys.executable, "-m", "rq.cli", *arguments],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def call_in(desk, caller: str) -> Callback:
    call = desk.emulator.place_inbound_call(from_=caller, keys=["3", "2", "#", "1", "1", "1"])
    desk.emulator.wait_idle(timeout=15)
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return db.session.scalars(select(Callback).where(Callback.phone == caller)).one()


def work_the_queue(desk) -> None:
    """One pass of the Procfile's worker, in burst mode, reaching Redis through the sentinel."""
    done = rq(
        "worker", "--burst", "--worker-class", "rq.worker.SimpleWorker", "-c", "app.rq_settings", "dispatch", "notify"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    desk.emulator.wait_idle(timeout=15)
    db.session.expire_all()


def test_the_desk_works_through_sentinel_and_across_a_failover(desk, sentinel):
    for name, number in (("Jan", "+32470000001"), ("Marie", "+32470000002")):  # one is in wrap-up after a call
        add_technician(name, number, languages="en")
        desk.emulator.set_phone(number, Phone(answer="answer", keys=["1"], talk_seconds=1))

    first = call_in(desk, "+32470123456")
    assert Redis(port=sentinel.master_port).llen("rq:queue:dispatch") >= 1  # the trigger went to the master
    work_the_queue(desk)
    assert db.session.get(Callback, first.id).status == "completed"

    sentinel.fail_over()
    second = call_in(desk, "+32475000002")
    promoted = Redis(port=sentinel.replica_port)
    assert promoted.llen("rq:queue:dispatch") >= 1  # the web process found the new master by itself
    work_the_queue(desk)
    assert db.session.get(Callback, second.id).status == "completed"
    assert len(db.session.scalars(select(CallbackAttempt)).all()) == 2


def test_rq_cron_and_check_reach_the_master_through_sentinel(desk, sentinel):
    cron = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "cron", "-c", "app.rq_settings", "callbacks.cron"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        master = Redis(port=sentinel.master_port)
        sentinel.wait_until(lambda: CronScheduler.all(master), "rq cron to register with the master")
        found = {finding.topic: finding for finding in preflight.run()}
        assert found["Redis"].level == preflight.OK
        assert found["Redis"].text == f"master 'desk' at 127.0.0.1:{sentinel.master_port}, db 0, via 1 sentinel(s)"
        assert found["cron"].level == preflight.OK
    finally:
        cron.terminate()
        cron.wait(timeout=10)


def test_a_sentinel_that_does_not_answer_fails_the_check_without_hanging(monkeypatch, migrated, tmp_path):
    app = build_app(monkeypatch, migrated, tmp_path, REDIS_URL=f"redis+sentinel://:pw@127.0.0.1:{free_port()}/desk")
    with app.app_context():
        started = time.monotonic()
        [finding] = preflight.redis()
        assert finding.level == preflight.FAIL
        assert finding.text.startswith("redis+sentinel://:***@127.0.0.1")
        assert finding.text.endswith("does not answer: No master found for 'desk'")
        assert time.monotonic() - started < 2  # the sentinels are asked once each, not retried with backoff
    with pytest.raises(Exception, match="No master found"):
        connect(f"redis+sentinel://127.0.0.1:{free_port()}/desk").ping()
