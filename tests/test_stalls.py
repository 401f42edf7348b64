"""A stalled database or Redis (stopped, not refusing) still gets every signed webhook answered in time.

A stopped server keeps its sockets open and answers nothing, so a client without a deadline
waits forever. Redis here is a redis-server of the test's own, really stopped (SIGSTOP); the
shared PostgreSQL cannot be stopped under other tests, so it is reached through a relay that
stops forwarding, which is what a stopped server looks like from the client's side.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback
from callbacks.rescue import SPOOL_NAME
from tests.helpers import SignedClient, build_app, empty_tables, free_port

#: Every answer within this, as DESIGN §11 and the provider's 15 s ask.
LIMIT_SECONDS = 10
CALLER = "+32470123456"
#: A whole new-problem call up to the queue: English, new problem, description, cannot work, only me, confirm.
STEPS = [
    ("/voice/incoming", {}),
    ("/voice/language?try=0", {"Digits": "3"}),
    ("/voice/main-menu?try=0", {"Digits": "2"}),
    ("/voice/recorded", {"RecordingUrl": "https://rec.example/RE1"}),
    ("/voice/urgency?try=0", {"Digits": "2"}),
    ("/voice/impact?try=0", {"Digits": "1"}),
    ("/voice/confirm-number?try=0", {"Digits": "1"}),
]


class StallingRelay:
    """A TCP relay to ``target`` that, once stalled, accepts and reads but forwards nothing back or forth."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.stalled = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.stalled.is_set():
                    time.sleep(0.05)
                sink.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()


def answered_in_time(provider: SignedClient, sid: str) -> list[float]:
    """Post every step of a call; each must answer valid TwiML within the limit. Returns the times taken."""
    took = []
    for path, params in STEPS:
        started = time.monotonic()
        answer = provider.post(path, call_sid=sid, caller=CALLER, **params)
        took.append(time.monotonic() - started)
        assert answer.status_code == 200 and answer.content_type.startswith("text/xml"), path
        assert answer.get_data(as_text=True).startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')
        assert took[-1] < LIMIT_SECONDS, f"{path} took {took[-1]:.1f} s"
    return took


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="the stalled database is PostgreSQL"
)
def test_a_stalled_database_still_gets_every_webhook_answered_and_the_promise_spooled(
    monkeypatch, migrated, tmp_path, redis
):
    parts = urlsplit(migrated)
    relay = StallingRelay(parts.hostname, parts.port or 5432)
    host_and_port = parts.netloc.rsplit("@", 1)[-1]
    through_relay = migrated.replace(host_and_port, f"127.0.0.1:{relay.port}", 1)
    app = build_app(monkeypatch, through_relay, tmp_path, WEBHOOK_BUDGET_SECONDS="5")
    empty_tables(app)
    try:
        with app.app_context():
            provider = SignedClient(app)
            relay.stalled.set()
            took = answered_in_time(provider, "CA" + "5" * 32)
            spooled = (Path(app.instance_path) / SPOOL_NAME).read_text()
            assert CALLER in spooled and "CA" + "5" * 32 in spooled  # the callback promise, kept on disk
            print(f"stalled database: slowest step {max(took):.1f} s")
    finally:
        relay.stalled.clear()
        relay.close()


@pytest.fixture
def stoppable_redis(tmp_path):
    """A redis-server of this test's own, to stop with SIGSTOP."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on the PATH")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield process, url
    os.kill(process.pid, signal.SIGCONT)
    process.terminate()
    process.wait(10)


def test_a_stalled_redis_still_gets_every_webhook_answered_and_the_callback_queued(
    monkeypatch, migrated, tmp_path, stoppable_redis
):
    process, url = stoppable_redis
    app = build_app(monkeypatch, migrated, tmp_path, REDIS_URL=url)
    empty_tables(app)
    with app.app_context():
        provider = SignedClient(app)
        os.kill(process.pid, signal.SIGSTOP)  # stopped: connections open, nothing answered
        took = answered_in_time(provider, "CA" + "6" * 32)
        callback = db.session.scalars(select(Callback)).one()  # the promise is in SQL, where it belongs
        assert callback.phone == CALLER and callback.status == "waiting"
        print(f"stalled Redis: slowest step {max(took):.1f} s")
        db.session.remove()
        db.engine.dispose()
