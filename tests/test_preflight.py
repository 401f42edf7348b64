"""`flask --app app check`: what a desk about to go live is told, against real services and the emulator."""

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from alembic.script import ScriptDirectory
from rq import Queue, Worker
from rq.cron import CronScheduler

from app import preflight
from app.queueing import QUEUES, redis_connection
from tests.helpers import add_technician, build_app, free_port

SECRET = "s" * 48


@pytest.fixture
def desk_settings():
    return {"SECRET_KEY": SECRET, "ONCALL_NUMBER": "+32470999000"}


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback that accepts anything."""
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port
    controller.stop()


@pytest.fixture
def running(desk, smtp_server):
    """The desk as deployed: a technician, a worker on every queue, one rq cron, mail configured."""
    desk.app.config.update(SMTP_HOST=smtp_server[0], SMTP_PORT=smtp_server[1])
    add_technician("Jan", "+32470000001")
    connection = redis_connection()
    worker = Worker([Queue(name, connection=connection) for name in QUEUES], connection=connection)
    worker.register_birth()
    cron = CronScheduler(connection)
    cron.register_birth()
    yield desk
    worker.register_death()
    cron.register_death()


def findings(level: str | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in preflight.run():
        if level is None or finding.level == level:
            found.setdefault(finding.topic, []).append(finding.text)
    return found


def test_a_ready_desk_has_no_failure(running):
    result = running.app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    ok = findings(preflight.OK)
    assert ok["DESK_NUMBER"] == [
        f"voice URL POST {running.url}/voice/incoming",
        f"fallback URL POST {running.url}/voice/fallback",
        f"status callback POST {running.url}/voice/status",
    ]
    assert ok["workers"] == ["1 on dispatch, 1 on notify"]
    assert ok["Twilio"][0].endswith("(Full, active)")
    assert set(ok) >= {
        "SECRET_KEY",
        "ONCALL_NUMBER",
        "database",
        "technicians",
        "Redis",
        "cron",
        "INSTANCE_PATH",
        "SMTP",
    }
    assert result.output.rstrip().endswith("ready (see the warnings)")  # the loopback PUBLIC_BASE_URL


def test_a_desk_number_whose_webhooks_point_elsewhere_fails(running):
    running.emulator.voice_url = "https://old-ivr.example/answer"
    running.emulator.fallback_url = None
    failed = findings(preflight.FAIL)
    assert failed == {
        "DESK_NUMBER": [
            f"voice URL is POST https://old-ivr.example/answer; set it to POST {running.url}/voice/incoming"
        ]
    }
    assert findings(preflight.WARN)["DESK_NUMBER"] == [
        f"fallback URL is POST (none); set it to POST {running.url}/voice/fallback"
    ]
    result = running.app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and "1 check failed" in result.output


def test_a_desk_number_the_account_does_not_have_fails(running):
    running.app.config["DESK_NUMBER"] = "+3220000000"
    assert findings(preflight.FAIL) == {"DESK_NUMBER": ["+3220000000 is not a number of this account"]}


def test_a_wrong_auth_token_fails(running):
    running.app.config["TWILIO_AUTH_TOKEN"] = "not-the-token"
    running.app.extensions.pop("twilio", None)
    assert findings(preflight.FAIL) == {
        "Twilio": ["the account answers 401: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"]
    }


def test_a_public_desk_with_the_development_secret_and_the_emulator_credentials_fails(running):
    running.app.config.update(
        SECRET_KEY=preflight.DEV_SECRET_KEY,
        PUBLIC_BASE_URL="https://callbacks.example.be",
        TWILIO_AUTH_TOKEN=preflight.EMULATOR_AUTH_TOKEN,
        TWILIO_API_BASE_URL="",
    )
    failed = findings(preflight.FAIL)
    assert set(failed) == {"SECRET_KEY", "Twilio"}
    assert findings(preflight.OK)["PUBLIC_BASE_URL"] == ["https://callbacks.example.be"]


def test_no_workers_no_cron_and_an_unreachable_smtp_server(desk):
    desk.app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1)
    warned = findings(preflight.WARN)
    assert warned["workers"] == ["no rq worker serves dispatch, notify (start the worker processes)"]
    assert "no rq cron running" in warned["cron"][0]
    assert "none yet" in warned["technicians"][0]
    assert findings(preflight.FAIL)["SMTP"][0].startswith("127.0.0.1:1: ")


def test_services_that_are_down_fail_with_a_clear_line(monkeypatch, tmp_path):
    app = build_app(
        monkeypatch, "postgresql+psycopg://127.0.0.1:1/gone", tmp_path / "instance", REDIS_URL="redis://127.0.0.1:1/0"
    )
    with app.app_context():
        failed = findings(preflight.FAIL)
        result = app.test_cli_runner().invoke(args=["check"])
    assert failed["database"][0].startswith("cannot connect to postgresql+psycopg://127.0.0.1:1/gone: ")
    assert failed["Redis"][0].startswith("redis://127.0.0.1:1/0 does not answer: ")
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_database_not_migrated_yet_fails(monkeypatch, tmp_path):
    app = build_app(monkeypatch, f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "instance")
    with app.app_context():
        failed = findings(preflight.FAIL)
        head = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()
    assert failed["database"] == [f"sqlite:///{tmp_path / 'new.db'} is at empty, the code needs {head}: run db upgrade"]
    assert head == "0014_report_rollup"  # the newest migration, so a new one is noticed here
