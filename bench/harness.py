"""Shared plumbing of the load and fault benchmarks: the desk's own processes on loopback.

The web, worker and cron processes are started from the ``Procfile`` lines
themselves (gunicorn, ``rq worker``, ``rq cron``), bound to 127.0.0.1 on a free
port, each in a process group of its own so a benchmark can stop (or SIGKILL)
exactly what it started. Private ``redis-server`` and PostgreSQL instances
serve the fault runs, which restart them; nothing here touches a service
another process started.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT / ".venv" / "bin"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
DESK_NUMBER = "+3234603535"
#: gunicorn's access-log line for each request: status, microseconds, path. GUNICORN_CMD_ARGS
#: adds it to the Procfile's own options without changing the command.
ACCESS_FORMAT = "BENCH %(s)s %(D)s %(U)s"
ACCESS_LINE = re.compile(r"BENCH (\d{3}) (\d+) (\S+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: Process | None = None) -> None:
    """Until something accepts on 127.0.0.1:port; fails early when ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive:
            raise RuntimeError(f"{process.name} exited early; see {process.log_path}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def procfile(name: str) -> str:
    """The command line of one Procfile process, as ``honcho`` would run it."""
    for line in (PROJECT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(f"no {name!r} process in the Procfile")


def web_command(app_spec: str | None = None) -> str:
    """The Procfile's web command on loopback only, optionally serving another WSGI app."""
    command = procfile("web").replace("0.0.0.0", "127.0.0.1")
    if app_spec is not None:
        command = command.replace('"app:create_app()"', shlex.quote(app_spec))
    return command


def base_environment() -> dict[str, str]:
    """The benchmark's environment: this project's venv first on PATH, the project importable."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(PROJECT)
    return env


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> str:
    """One line about the machine the figures come from."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "unknown CPU",
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} cores ({model}), {memory} GiB; load average {load_average()}"


class Process:
    """One child process in its own process group, its output in a log file."""

    def __init__(self, name: str, command: str, env: dict[str, str], log_dir: Path, user: str | None = None) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.user = user
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        argv = ["bash", "-c", f"exec {self.command}"]
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--", *argv]
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            argv, env=self.env, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group at once: a crash, no clean-up of any kind."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Ask politely, then SIGKILL what is left of the group."""
        if self.popen is None:
            return
        if self.alive:
            self.signal_group(signum)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        # Forked children (a work horse, a gunicorn worker) may outlive their parent briefly.
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def tree(self) -> list[int]:
        """This process and its descendants, from /proc."""
        return [self.pid, *descendants(self.pid)] if self.alive else []


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples the resident memory of process trees by role until stopped.

    For each role: the peak of the role's total, and the largest single process seen
    (an RQ work horse is a short-lived fork of its worker, so it is sampled too).
    """

    def __init__(self, roles: dict[str, list[Process]], every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.roles = roles
        self.every = every
        self.peak_total: dict[str, int] = dict.fromkeys(roles, 0)
        self.peak_single: dict[str, int] = dict.fromkeys(roles, 0)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            for role, processes in self.roles.items():
                sizes = [rss_kib(pid) for process in processes for pid in process.tree()]
                if sizes:
                    self.peak_total[role] = max(self.peak_total[role], sum(sizes))
                    self.peak_single[role] = max(self.peak_single[role], max(sizes))

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


class PrivateRedis:
    """A redis-server of our own on a free loopback port, without persistence.

    ``restart`` SIGKILLs it and starts a new one on the same port: the data is gone,
    exactly what a crashed Redis without persistence looks like to its clients.
    """

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        if shutil.which("redis-server") is None:
            raise SystemExit("redis-server is missing: apt-get install -y redis-server (see `make bench-deps`)")
        command = f"redis-server --bind 127.0.0.1 --port {self.port} --save '' --appendonly no"
        self.process = Process("redis", command, base_environment(), self.log_dir).start()
        wait_for_port(self.port, process=self.process)
        return self

    def restart(self, down_seconds: float = 2.0) -> None:
        assert self.process is not None
        self.process.kill()
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def postgresql_bin() -> Path:
    """The directory of the PostgreSQL server binaries (initdb, postgres)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found is None:
        raise SystemExit("PostgreSQL server binaries not found: apt-get install -y postgresql")
    return Path(found).resolve().parent


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary directory, a free port).

    The shared cluster serves other people's tests; restarting it would fail them.
    The server runs as the ``postgres`` system user when we are root (PostgreSQL
    refuses to run as root).
    """

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivatePostgres:
        binaries = postgresql_bin()
        if not self.data.exists():
            if self.user is not None:
                shutil.chown(self.root, self.user)
            initdb = [str(binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            if self.user is not None:
                initdb = ["runuser", "-u", self.user, "--", *initdb]
            subprocess.run(initdb, check=True, capture_output=True)
        command = (
            f"{binaries / 'postgres'} -D {self.data} -p {self.port} -k {self.root} "
            "-c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB"
        )
        self.process = Process("postgres", command, base_environment(), self.log_dir, user=self.user).start()
        wait_for_port(self.port, process=self.process)
        time.sleep(0.5)  # the port opens a moment before connections are accepted
        return self

    def restart(self, down_seconds: float = 3.0) -> None:
        """A fast shutdown (SIGINT: clients are disconnected, work is flushed), a pause, a start."""
        assert self.process is not None
        self.process.stop(signal.SIGINT, timeout=30)
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(signal.SIGINT, timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Database:
    """A migrated, empty database for one run: a schema of its own on PostgreSQL, a file on SQLite."""

    admin_url: str
    url: str
    schema: str | None = None

    @classmethod
    def create(cls, admin_url: str, workdir: Path, name: str = "bench") -> Database:
        """``name`` tells apart the SQLite files of the apps a run serves side by side."""
        if not admin_url.startswith("postgresql"):
            return cls(admin_url, f"sqlite:///{workdir / name}.db")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(admin_url)
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        separator = "&" if "?" in admin_url else "?"
        return cls(admin_url, f"{admin_url}{separator}options=-csearch_path%3D{schema}", schema)

    def migrate(self, instance: Path) -> None:
        from flask_migrate import upgrade

        from app import create_app
        from app.extensions import db

        app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "INSTANCE_PATH": str(instance)})
        with app.app_context():
            upgrade(revision="heads")
            db.engine.dispose()

    def drop(self) -> None:
        if self.schema is None:
            return
        engine = sa.create_engine(self.admin_url)
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        engine.dispose()


@dataclass
class DeskProcesses:
    """The Procfile's processes for one run: gunicorn, ``rq worker`` (N of them) and ``rq cron``.

    A watchdog restarts any of them that exits, one second later, as the platform
    does in production (systemd ``Restart=always``, a dyno manager): an ``rq worker``
    exits when Redis goes away while it finishes a job, and a killed one must come back.
    """

    env: dict[str, str]
    log_dir: Path
    port: int
    workers: int = 2
    web: Process | None = None
    worker_processes: list[Process] = field(default_factory=list)
    cron: Process | None = None
    restarts: Counter = field(default_factory=Counter)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> DeskProcesses:
        self.web = Process("web", web_command(), self.env, self.log_dir).start()
        for number in range(self.workers):
            self.start_worker(number)
        self.cron = Process("cron", procfile("cron"), self.env, self.log_dir).start()
        wait_for_port(self.port, timeout=60, process=self.web)
        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def start_worker(self, number: int) -> Process:
        worker = Process(f"worker-{number}", procfile("worker"), self.env, self.log_dir).start()
        self.worker_processes.append(worker)
        return worker

    def all(self) -> list[Process]:
        return [process for process in (self.web, *self.worker_processes, self.cron) if process is not None]

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for process in self.all():
                if not process.alive and not self._stopping.wait(1.0):
                    process.stop()  # reap what is left of its group
                    process.start()
                    self.restarts[process.name] += 1

    def stop(self) -> None:
        self._stopping.set()
        for process in self.all():
            process.stop()


def desk_environment(
    database_url: str, redis_url: str, instance: Path, port: int, emulator_url: str, **extra: object
) -> dict[str, str]:
    """What every desk process reads (DESIGN §8), for a desk open around the clock on loopback."""
    env = base_environment()
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "INSTANCE_PATH": str(instance),
            "PORT": str(port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": emulator_url,
            "DESK_NUMBER": DESK_NUMBER,
            # The figures must not depend on the hour the benchmark runs at.
            "OPENING_HOURS": "mon-sun 00:00-24:00",
            "PUBLIC_HOLIDAYS": "",
            # The Procfile keeps no access log (a line per webhook); the benchmarks read one.
            "GUNICORN_CMD_ARGS": f"--access-logfile - --access-logformat {shlex.quote(ACCESS_FORMAT)}",
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def access_log(path: Path) -> list[tuple[int, float, str]]:
    """(status, milliseconds, path) of every request in a gunicorn access log."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        match = ACCESS_LINE.search(line)
        if match:
            entries.append((int(match[1]), int(match[2]) / 1000, match[3]))
    return entries


def percentile(values: Iterable[float], share: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, min(len(ordered) - 1, int(-(-share * len(ordered) // 1)) - 1))]


def profile(pids: list[int], seconds: float, output: Path) -> list[Path]:
    """Start py-spy on each process for ``seconds``, in the background; returns the files it writes."""
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install -r requirements.txt")
    files = []
    for pid in pids:
        target = output / f"profile-{pid}.txt"
        command = [str(py_spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "250"]
        command += ["--format", "raw", "--output", str(target), "--nonblocking"]
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        files.append(target)
    return files


#: Frames worth showing in a profile: the desk's code and the libraries it spends its time in.
PROFILED = ("ivr/", "app/", "callbacks/", "sqlalchemy/", "twilio/", "psycopg", "flask/", "rq/", "redis/", "requests/")


def print_profile(files: list[Path], title: str, top: int = 25) -> None:
    """Inclusive and self shares of py-spy's samples per function."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [short_frame(frame.strip()) for frame in stack.split(";")]
            total += int(count)
            for frame in set(frames):
                inclusive[frame] += int(count)
            leaf[frames[-1]] += int(count)
    if not total:
        print("py-spy recorded no samples (is ptrace allowed here?)")
        return
    print(f"\nprofile of {title} ({total} samples)")
    print(f"{'inclusive':>9}  function")
    shown = [(frame, count) for frame, count in inclusive.most_common() if any(p in frame for p in PROFILED)]
    for frame, count in shown[:top]:
        print(f"{100 * count / total:8.1f}%  {frame}")
    print(f"{'self':>9}  function")
    for frame, count in leaf.most_common(12):
        print(f"{100 * count / total:8.1f}%  {frame}")


def short_frame(frame: str) -> str:
    """``function (path/to/file.py:line)`` without the line, with a short path."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{PROJECT}/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"
