"""What tests share besides fixtures: building the app, signed webhooks, records to start from, logging in.

Fixtures live in conftest.py; these are plain functions and classes a test imports.
"""

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from rq import Queue, SimpleWorker
from twilio.request_validator import RequestValidator

from app import create_app
from app.extensions import db
from app.models import CallbackAttempt, Company, Contact, ContactPhone, Technician, TechnicianState
from app.queueing import QUEUES, redis_connection
from autotask_standin import AutotaskStandIn
from callbacks.dispatch import claim_batch
from emulator import TwilioEmulator

AUTH_TOKEN = "test-auth-token-0123456789abcdef0123"
SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"
ACCOUNT_SID = "AC" + "1" * 32
#: Where conftest.py says this run's Redis is (a private server, or TEST_REDIS_URL).
REDIS_URL_VARIABLE = "CALLBACK_DESK_TEST_REDIS_URL"


def redis_url() -> str:
    """This test run's Redis (started by conftest.py for the session)."""
    return os.environ[REDIS_URL_VARIABLE]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings(database_url: str, instance: Path, **extra) -> dict:
    """Environment for the app and any worker process it starts."""
    values = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "INSTANCE_PATH": str(instance),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "http://desk.test",
        "DEFAULT_LANGUAGE": "en",
        "OPENING_HOURS": "mon-sun 00:00-24:00",
        "PUBLIC_HOLIDAYS": "",
        "WRAP_UP_SECONDS": "0",
        "RETRY_INTERVAL_SECONDS": "600",
        # Tests place calls as fast as a large account may; tests/test_pacing.py paces them.
        "TWILIO_CPS": "1000",
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


def claim_next() -> CallbackAttempt | None:
    """Claim one callback for one technician, as a dispatch batch of one: the next offer, or None."""
    claimed = claim_batch(limit=1)
    return claimed[0] if claimed else None
