"""``flask --app app check``: is this desk ready to take calls?

Each check says ok, warn or FAIL in one line, with what to do. A FAIL means
callers would be let down (no database, the provider rejecting our
credentials, the desk number's webhooks pointing elsewhere); a warning is
something a desk may choose (no on-call number, mail not configured) or that
is true only until the processes are started (no workers yet).
"""

import smtplib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from rq.cron import CronScheduler
from sqlalchemy import func, select
from twilio.base.exceptions import TwilioRestException
from werkzeug.security import check_password_hash

from app import notifications, secret_settings, telephony
from app.extensions import db
from app.models import Technician, User
from app.queueing import redis_connection, workers_per_queue
from app.redis_url import describe, redacted, sentinel_target

OK, WARN, FAIL = "ok", "warn", "FAIL"
#: The published defaults that only make sense with the local emulator (app/secret_settings.py).
DEV_SECRET_KEY = "dev-only-secret-change-me"
EMULATOR_AUTH_TOKEN = "emulator-auth-token"


@dataclass(frozen=True)
class Finding:
    level: str
    topic: str
    text: str

    def line(self) -> str:
        return f"{self.level:<4}  {self.topic}: {self.text}"


Check = Callable[[], Iterator[Finding]]


def _local() -> bool:
    """The desk runs on loopback only: a developer's machine, not a deployment."""
    return secret_settings.is_loopback(current_app.config["PUBLIC_BASE_URL"])


def settings() -> Iterator[Finding]:
    config = current_app.config
    public = urlsplit(config["PUBLIC_BASE_URL"])
    problem = secret_settings.weakness(config["SECRET_KEY"])
    if problem is not None:
        level = WARN if _local() else FAIL
        yield Finding(level, "SECRET_KEY", f"{problem}: set a long random value (sessions are signed with it)")
    else:
        yield Finding(OK, "SECRET_KEY", "set")
    if _local():
        yield Finding(
            WARN, "PUBLIC_BASE_URL", f"{config['PUBLIC_BASE_URL']} is loopback: only a local emulator reaches it"
        )
    elif public.scheme != "https":
        yield Finding(
            WARN, "PUBLIC_BASE_URL", f"{config['PUBLIC_BASE_URL']} is not https: logins and webhooks travel in clear"
        )
    else:
        yield Finding(OK, "PUBLIC_BASE_URL", config["PUBLIC_BASE_URL"])
    if config["ONCALL_NUMBER"]:
        yield Finding(OK, "ONCALL_NUMBER", config["ONCALL_NUMBER"])
    else:
        yield Finding(WARN, "ONCALL_NUMBER", "not set: an urgent call nobody takes becomes a P1 callback")
    if problem := notifications.sms_sender_problem(config["SMS_FROM"], config["DESK_NUMBER"]):
        yield Finding(FAIL, "SMS_FROM", problem)
    else:
        yield Finding(OK, "SMS_FROM", config["SMS_FROM"])
    if config["RETENTION_DAYS"] > 0:
        yield Finding(
            OK, "RETENTION_DAYS", f"callers' numbers, IVR calls and recordings go after {config['RETENTION_DAYS']} days"
        )
    else:
        yield Finding(WARN, "RETENTION_DAYS", "not set: callers' numbers, IVR calls and recordings are kept forever")


def database() -> Iterator[Finding]:
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception as error:
        yield Finding(FAIL, "database", f"cannot connect to {db.engine.url.render_as_string()}: {_first_line(error)}")
        return
    heads = set(ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_heads())
    where = db.engine.url.render_as_string(hide_password=True)
    if current != heads:
        found = ", ".join(sorted(current)) or "empty"
        yield Finding(
            FAIL, "database", f"{where} is at {found}, the code needs {', '.join(sorted(heads))}: run db upgrade"
        )
        return
    yield Finding(OK, "database", f"{where}, schema at {', '.join(sorted(heads))}")
    technicians = db.session.scalar(select(func.count()).select_from(Technician))
    if technicians:
        yield Finding(OK, "technicians", f"{technicians} known")
    else:
        yield Finding(WARN, "technicians", "none yet: add them (technicians add) or nobody is called back")
    demo = demo_password_users()
    if demo:
        yield Finding(
            WARN if _local() else FAIL,
            "accounts",
            f"{', '.join(demo)} still use the published demo password: users passwd NAME, or users disable NAME",
        )
    else:
        yield Finding(OK, "accounts", "no account uses the demo password")


def demo_password_users() -> list[str]:
    """Active accounts whose password is still the published demo one."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [user.username for user in users if check_password_hash(user.password_hash, secret_settings.DEMO_PASSWORD)]


def redis() -> Iterator[Finding]:
    url = current_app.config["REDIS_URL"]
    connection = redis_connection()
    try:
        connection.ping()
    except Exception as error:
        yield Finding(FAIL, "Redis", f"{redacted(url)} does not answer: {describe(error)}")
        return
    target = sentinel_target(url)
    if target is None:
        yield Finding(OK, "Redis", redacted(url))
    else:
        host, port = connection.connection_pool.get_master_address()
        yield Finding(
            OK,
            "Redis",
            f"master {target.master!r} at {host}:{port}, db {target.db}, via {len(target.instances)} sentinel(s)",
        )
    serving = workers_per_queue(connection)
    idle = [name for name, count in serving.items() if not count]
    if idle:
        yield Finding(WARN, "workers", f"no rq worker serves {', '.join(idle)} (start the worker processes)")
    else:
        yield Finding(OK, "workers", ", ".join(f"{count} on {name}" for name, count in serving.items()))
    schedulers = CronScheduler.all(connection)
    if schedulers:
        yield Finding(OK, "cron", f"{len(schedulers)} rq cron running (the reconciler)")
    else:
        yield Finding(WARN, "cron", "no rq cron running: nothing reconciles (start the cron process, exactly one)")


def instance() -> Iterator[Finding]:
    folder = Path(current_app.instance_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as error:
        yield Finding(
            FAIL, "INSTANCE_PATH", f"{folder} is not writable ({error.strerror}): the rescue spool lives there"
        )
        return
    yield Finding(OK, "INSTANCE_PATH", f"{folder} writable")


def provider() -> Iterator[Finding]:
    config = current_app.config
    if secret_settings.weakness(config["TWILIO_AUTH_TOKEN"]) and not config["TWILIO_API_BASE_URL"]:
        yield Finding(FAIL, "Twilio", "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are the emulator's: set the account's")
        return
    client = telephony.rest_client()
    try:
        account = client.api.v2010.accounts(config["TWILIO_ACCOUNT_SID"]).fetch()
    except TwilioRestException as error:
        yield Finding(
            FAIL, "Twilio", f"the account answers {error.status}: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
        return
    except Exception as error:
        yield Finding(FAIL, "Twilio", f"the REST API cannot be reached: {_first_line(error)}")
        return
    if account.status != "active":
        yield Finding(FAIL, "Twilio", f"account {account.sid} is {account.status}")
        return
    level = WARN if account.type == "Trial" else OK
    yield Finding(level, "Twilio", f"account {account.sid} ({account.type}, {account.status})")
    numbers = client.incoming_phone_numbers.list(phone_number=config["DESK_NUMBER"], limit=5)
    if not numbers:
        yield Finding(FAIL, "DESK_NUMBER", f"{config['DESK_NUMBER']} is not a number of this account")
        return
    number = numbers[0]
    base = config["PUBLIC_BASE_URL"]
    wanted = [
        ("voice URL", number.voice_url, number.voice_method, f"{base}/voice/incoming", FAIL),
        ("fallback URL", number.voice_fallback_url, number.voice_fallback_method, f"{base}/voice/fallback", WARN),
        ("status callback", number.status_callback, number.status_callback_method, f"{base}/voice/status", WARN),
    ]
    for what, url, method, expected, level in wanted:
        if url != expected or (method or "POST").upper() != "POST":
            yield Finding(level, "DESK_NUMBER", f"{what} is {method} {url or '(none)'}; set it to POST {expected}")
        else:
            yield Finding(OK, "DESK_NUMBER", f"{what} POST {expected}")


def mail() -> Iterator[Finding]:
    config = current_app.config
    if not config["SMTP_HOST"]:
        yield Finding(WARN, "SMTP", "SMTP_HOST not set: surveys and notices by mail are logged, not sent")
        return
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        yield Finding(FAIL, "SMTP", f"{config['SMTP_HOST']}:{config['SMTP_PORT']}: {_first_line(error)}")
        return
    yield Finding(OK, "SMTP", f"{config['SMTP_HOST']}:{config['SMTP_PORT']} answers")


CHECKS: list[Check] = [settings, database, redis, instance, provider, mail]


def run() -> list[Finding]:
    """Every finding, in order; a check that breaks is a FAIL of its own, never a traceback."""
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check())
        except Exception as error:
            findings.append(Finding(FAIL, check.__name__, f"the check itself failed: {_first_line(error)}"))
    return findings


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
