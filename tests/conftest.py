"""Fixtures: a real database (SQLite, or PostgreSQL when DATABASE_URL says so),
a real Redis database of its own, the app, and a live desk wired to the emulator.

``DATABASE_URL=postgresql+psycopg://127.0.0.1/test make test`` runs the whole
suite on PostgreSQL, in a schema created for this run and dropped after it.
"""

import email
import email.policy
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask_migrate import upgrade
from redis import Redis
from rq import Queue, SimpleWorker
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import Company, Contact, ContactPhone, Technician, TechnicianState
from app.queueing import QUEUES, redis_connection
from autotask_standin import AutotaskStandIn
from emulator import TwilioEmulator

AUTH_TOKEN = "test-auth-token"
ACCOUNT_SID = "AC" + "1" * 32
#: Redis database for this run: 13 on SQLite, 14 on PostgreSQL, or TEST_REDIS_DB.
REDIS_DB = int(
    os.environ.get("TEST_REDIS_DB", "14" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "13")
)
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def settings(database_url: str, instance: Path, **extra) -> dict:
    """Environment for the app and any worker process it starts."""
    values = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "INSTANCE_PATH": str(instance),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": "http://desk.test",
        "DEFAULT_LANGUAGE": "en",
        "OPENING_HOURS": "mon-sun 00:00-24:00",
        "PUBLIC_HOLIDAYS": "",
        "WRAP_UP_SECONDS": "0",
        "RETRY_INTERVAL_SECONDS": "600",
    }
    values.update({key: str(value) for key, value in extra.items()})
    return values


def build_app(monkeypatch, database_url: str, instance: Path, **extra) -> Flask:
    """An app configured through the environment, exactly as a worker process would see it."""
    for key, value in settings(database_url, instance, **extra).items():
        monkeypatch.setenv(key, value)
    return create_app({"TESTING": True})


def empty_tables(app: Flask) -> None:
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def redis() -> Iterator[Redis]:
    connection = Redis.from_url(REDIS_URL)
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


class SignedClient:
    """Posts webhooks to the app the way the provider does: form-encoded and signed."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.validator = RequestValidator(app.config["TWILIO_AUTH_TOKEN"])

    def post(self, path: str, call_sid: str = "CA" + "0" * 32, caller: str = "+32470123456", **params):
        form = {"CallSid": call_sid, "From": caller, "To": self.app.config["DESK_NUMBER"], "AccountSid": ACCOUNT_SID}
        form.update(params)
        url = self.app.config["PUBLIC_BASE_URL"] + path
        signature = self.validator.compute_signature(url, form)
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def provider(app) -> SignedClient:
    return SignedClient(app)


def run_jobs(app: Flask) -> None:
    """Run every queued RQ job in this process until the queues are empty."""
    with app.app_context():
        connection = redis_connection()
        SimpleWorker([Queue(name, connection=connection) for name in QUEUES], connection=connection).work(
            burst=True, with_scheduler=False
        )


@dataclass
class Desk:
    """The app served over HTTP on loopback, with the emulator as its provider."""

    app: Flask
    emulator: TwilioEmulator
    url: str

    def run_jobs(self) -> None:
        run_jobs(self.app)


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


def add_technician(
    name: str, number: str, state: str = TechnicianState.AVAILABLE, languages: str = "nl,en"
) -> Technician:
    technician = Technician(name=name, phone=number, languages=languages, state=state)
    db.session.add(technician)
    db.session.commit()
    return technician


def add_contact(name: str, number: str, company: str = "Brouwerij De Klok", contract: str = "magic") -> Contact:
    contact = Contact(name=name, company=Company(name=company, contract=contract), language="en")
    contact.phones.append(ContactPhone(e164=number))
    db.session.add(contact)
    db.session.commit()
    return contact


@dataclass
class Mailbox:
    """A real SMTP server (aiosmtpd) on loopback and the mails it received."""

    host: str
    port: int
    messages: list


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


PASSWORD = "correct-horse"


def add_user(username: str, role: str = "manager", technician: Technician | None = None, password: str = PASSWORD):
    """An account for the board, console or API."""
    from app.web.accounts import add_user as create

    return create(username, password, role, technician)


def csrf_token_of(html: str) -> str:
    """The CSRF token a page carries (in its meta tag)."""
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client, username: str, password: str = PASSWORD):
    """Log in through the login form, CSRF token included; returns the answer to the POST."""
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def standin() -> Iterator[AutotaskStandIn]:
    """A local Autotask (autotask_standin/) on loopback, without threshold latency unless a test sets it."""
    standin = AutotaskStandIn(latency_seconds=(0.0, 0.0)).start()
    yield standin
    standin.stop()


def autotask_settings(standin: AutotaskStandIn, **extra) -> dict:
    """Settings that make the desk keep its tickets in the stand-in."""
    values = {
        "TICKET_STORE": "autotask",
        "AUTOTASK_USERNAME": standin.username,
        "AUTOTASK_SECRET": standin.secret,
        "AUTOTASK_INTEGRATION_CODE": standin.integration_code,
        "AUTOTASK_ZONE_URL": standin.zone_url,
    }
    values.update(extra)
    return values
