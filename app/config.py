"""Configuration read from the environment, with every default in one place.

``from_environment()`` is called by ``create_app`` each time, so a test (or a
worker process) that sets variables before building the app gets them.
``create_app(overrides)`` may replace any setting. Secrets have no default:
app/secret_settings.py refuses to start without them outside loopback and
generates development ones on loopback.
"""

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from app.opening_hours import parse_hours
from app.redis_url import sentinel_target

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

DEFAULT_PRIORITY_MATRIX = (
    "cannot_work:me=3,cannot_work:several=2,cannot_work:company=1,can_work:me=4,can_work:several=4,can_work:company=3"
)


def checked_redis_url(url: str) -> str:
    """A malformed Sentinel URL stops the process at start, with what is wrong (RedisUrlError)."""
    sentinel_target(url)
    return url


def parse_priority_matrix(raw: str) -> dict[tuple[str, str], int]:
    """Parse ``urgency:impact=P`` pairs, e.g. ``cannot_work:company=1``."""
    matrix = {}
    for pair in raw.split(","):
        key, _, priority = pair.strip().partition("=")
        urgency, _, impact = key.partition(":")
        matrix[(urgency, impact)] = int(priority)
    return matrix


def parse_pairs(raw: str) -> dict[str, str]:
    """``nl=a,fr=b`` → {"nl": "a", "fr": "b"}."""
    return dict(pair.strip().split("=", 1) for pair in raw.split(",") if "=" in pair)


def parse_targets(raw: str) -> dict[int, int]:
    """``1=15,2=30`` → {1: 15, 2: 30}: minutes per priority."""
    return {int(key): int(value) for key, _, value in (pair.strip().partition("=") for pair in raw.split(","))}


def parse_aging(raw: str) -> dict[int, int]:
    """``3=120,4=480`` -> {3: 120, 4: 480}: minutes per priority before it moves up a level; "" is no aging."""
    pairs = (pair.strip().partition("=") for pair in raw.split(",") if pair.strip())
    return {int(priority): int(minutes) for priority, _, minutes in pairs}


def from_environment(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Every setting, from ``env`` or its default. Malformed numbers fail at start-up."""

    def get(name: str, default: str) -> str:
        return env.get(name) or default

    def number(name: str, default: int) -> int:
        return int(get(name, str(default)))

    instance = Path(get("INSTANCE_PATH", str(PROJECT_DIR / "instance")))
    return {
        # SQLAlchemy URL; SQLite under instance/ unless PostgreSQL is configured.
        "SQLALCHEMY_DATABASE_URI": get("DATABASE_URL", f"sqlite:///{instance / 'callback-desk.db'}"),
        "INSTANCE_PATH": str(instance),
        # A pooled database connection idle longer than this is pinged before use (a restarted
        # server has closed it); one in steady use is not, which saves a round trip per transaction.
        "DATABASE_PING_IDLE_SECONDS": float(get("DATABASE_PING_IDLE_SECONDS", "1")),
        # Redis carries RQ jobs only; nothing in it is the only copy of anything.
        # Or a redis+sentinel:// URL (app/redis_url.py).
        "REDIS_URL": checked_redis_url(get("REDIS_URL", DEFAULT_REDIS_URL)),
        # Seconds one Redis command (and connecting) may take: a webhook makes several and must
        # answer within the provider's 15 s, so a stalled Redis costs seconds, not minutes.
        "REDIS_SOCKET_TIMEOUT_SECONDS": float(get("REDIS_SOCKET_TIMEOUT_SECONDS", "1")),
        # Milliseconds one SQL statement may run on PostgreSQL (statement_timeout), and seconds of
        # silence before TCP keepalives give up on a PostgreSQL that vanished.
        "DATABASE_STATEMENT_TIMEOUT_MS": number("DATABASE_STATEMENT_TIMEOUT_MS", 3000),
        "DATABASE_KEEPALIVE_SECONDS": number("DATABASE_KEEPALIVE_SECONDS", 5),
        # Seconds a provider webhook may take before it answers with the safe path instead (the
        # provider waits 15 s; the safe path needs about a Redis timeout more). 0 turns it off.
        "WEBHOOK_BUDGET_SECONDS": float(get("WEBHOOK_BUDGET_SECONDS", "7")),
        # Signs sessions, CSRF tokens and customers' links; at least 32 characters (app/secret_settings.py).
        "SECRET_KEY": get("SECRET_KEY", ""),
        # A bearer token for /metrics that needs no database (a manager's API token works as well).
        "METRICS_TOKEN": get("METRICS_TOKEN", ""),
        # Wrong passwords allowed per user name, and per client address, before logging in pauses
        # (flask-limiter syntax, counted in Redis: app/web/limits.py).
        "LOGIN_LIMIT_PER_USER": get("LOGIN_LIMIT_PER_USER", "20 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": get("LOGIN_LIMIT_PER_ADDRESS", "100 per 15 minutes"),
        "CALLER_PAGE_LIMIT": get("CALLER_PAGE_LIMIT", "30 per minute"),
        # Proxies in front of gunicorn that append to X-Forwarded-For (deploy/: the TLS proxy is 1);
        # the client's address, which limits count per, is read that many hops back. 0 trusts no header.
        "PROXY_COUNT": number("PROXY_COUNT", 0),
        # Days the phone line keeps callers' numbers, IVR calls and recordings (app/retention.py); 0 keeps them.
        "RETENTION_DAYS": number("RETENTION_DAYS", 0),
        # Finished desk days the hourly report rollup counts again (app/report_rollup.py), so what
        # changes shortly after a day ended (a call ending after midnight) reaches the reports.
        "REPORT_RECOUNT_DAYS": number("REPORT_RECOUNT_DAYS", 2),
        "TWILIO_ACCOUNT_SID": get("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        # Webhooks are signed with it; required outside loopback (app/secret_settings.py).
        "TWILIO_AUTH_TOKEN": get("TWILIO_AUTH_TOKEN", ""),
        # Replaces the REST host: a local emulator or a Twilio-compatible provider.
        "TWILIO_API_BASE_URL": get("TWILIO_API_BASE_URL", ""),
        # The app's address as the provider sees it; signatures are checked against it.
        "PUBLIC_BASE_URL": get("PUBLIC_BASE_URL", f"http://127.0.0.1:{number('PORT', 5000)}").rstrip("/"),
        "DESK_NUMBER": get("DESK_NUMBER", "+3234603535"),
        # Who every SMS comes from: an alphanumeric sender (up to 11 letters, digits, spaces), a mobile
        # number of the account, or a Messaging Service SID (MG…). Not the desk number: a Belgian
        # landline cannot send SMS.
        "SMS_FROM": get("SMS_FROM", "ServiceDesk"),
        "ONCALL_NUMBER": get("ONCALL_NUMBER", ""),
        # Calls per second the provider account places (a new Twilio account: 1); outbound
        # calls are paced to it across every worker and host (callbacks/pacing.py).
        "TWILIO_CPS": number("TWILIO_CPS", 1),
        # An urgent leg placed from a webhook waits at most this long for its turn, then goes out anyway.
        "URGENT_PACE_SECONDS": number("URGENT_PACE_SECONDS", 3),
        # Urgent calls ring every free technician at once ("all") or one at a time ("longest_idle").
        "URGENT_RING_MODE": get("URGENT_RING_MODE", "all"),
        # Seconds an urgent call rings the technicians (each one, one at a time), then the on-call number.
        "URGENT_RING_SECONDS": number("URGENT_RING_SECONDS", 20),
        "ONCALL_RING_SECONDS": number("ONCALL_RING_SECONDS", 30),
        # Region for numbers keyed or stored without a country code.
        "PHONE_REGION": get("PHONE_REGION", "BE"),
        # Countries the desk calls back and texts (ISO codes); fixed and mobile numbers only (app/phone.py).
        "CALLBACK_COUNTRIES": frozenset(
            code.strip().upper() for code in get("CALLBACK_COUNTRIES", "BE,NL,LU,FR,DE").split(",") if code.strip()
        ),
        # New tickets per caller number (and per keyed number) in an hour; the next call is refused politely.
        "CALLS_PER_HOUR": number("CALLS_PER_HOUR", 3),
        # Minutes after a live urgent transfer before the same number is put through live again (else a P1 callback).
        "URGENT_COOLDOWN_MINUTES": number("URGENT_COOLDOWN_MINUTES", 15),
        # Priority per (urgency, impact); 1 is the highest.
        "PRIORITY_MATRIX": parse_priority_matrix(get("PRIORITY_MATRIX", DEFAULT_PRIORITY_MATRIX)),
        # Seconds the technician's phone rings before the offer counts as missed.
        "OFFER_RING_SECONDS": number("OFFER_RING_SECONDS", 20),
        # Seconds the customer's phone rings when a technician calls back.
        "CUSTOMER_RING_SECONDS": number("CUSTOMER_RING_SECONDS", 30),
        # Seconds a technician stays in wrap-up after a connected callback.
        "WRAP_UP_SECONDS": number("WRAP_UP_SECONDS", 60),
        # Seconds before a customer who was not reached is called again.
        "RETRY_INTERVAL_SECONDS": number("RETRY_INTERVAL_SECONDS", 600),
        # Customer attempts before a callback is given up as unreachable.
        "MAX_ATTEMPTS": number("MAX_ATTEMPTS", 3),
        # Offers missed in a row before a technician is set away.
        "MAX_MISSED_OFFERS": number("MAX_MISSED_OFFERS", 2),
        # An offer whose technician leg never reported is expired after this long.
        "STALE_OFFER_SECONDS": number("STALE_OFFER_SECONDS", 90),
        # A callback call with no provider news for this long is closed by the reconciler.
        "STALE_CALL_SECONDS": number("STALE_CALL_SECONDS", 3 * 3600),
        # A callback call with no news for this long is looked up at the provider (then again every as long).
        "CALL_CHECK_SECONDS": number("CALL_CHECK_SECONDS", 120),
        # An offer whose technician was never rung (the dispatcher died after the claim) is undone after this.
        "UNRUNG_OFFER_SECONDS": number("UNRUNG_OFFER_SECONDS", 40),
        # Seconds between two reconciler sweeps (the cron process); keep it at 30 or less.
        "RECONCILE_SECONDS": number("RECONCILE_SECONDS", 10),
        # Seconds a callback waits for a technician who speaks its language before anyone may take it.
        "LANGUAGE_FALLBACK_SECONDS": number("LANGUAGE_FALLBACK_SECONDS", 300),
        # Seconds before a callback a technician skipped may be offered to that technician again.
        "SKIP_COOLDOWN_SECONDS": number("SKIP_COOLDOWN_SECONDS", 300),
        # Aging: minutes per priority after which a waiting callback sorts one level higher ("" = off).
        "AGING_MINUTES": parse_aging(get("AGING_MINUTES", "")),
        # Time-to-callback target per priority, in minutes: the board's "within target" share.
        "CALLBACK_TARGET_MINUTES": parse_targets(get("CALLBACK_TARGET_MINUTES", "1=15,2=30,3=120,4=480")),
        # The board proposes an incident when this many callers of one company report a problem
        # affecting several people or the whole company within INCIDENT_MINUTES.
        "INCIDENT_CALLERS": number("INCIDENT_CALLERS", 3),
        "INCIDENT_MINUTES": number("INCIDENT_MINUTES", 15),
        # Seconds the IVR waits for a key before repeating a menu.
        "GATHER_TIMEOUT_SECONDS": number("GATHER_TIMEOUT_SECONDS", 6),
        # Longest problem description recorded, in seconds.
        "RECORDING_MAX_SECONDS": number("RECORDING_MAX_SECONDS", 120),
        # Where tickets live: "sql" (the desk's own database) or "autotask" (Autotask PSA, mirrored locally).
        "TICKET_STORE": get("TICKET_STORE", "sql"),
        # The Autotask API user's credentials (Admin > Resources, security level "API User").
        "AUTOTASK_USERNAME": get("AUTOTASK_USERNAME", ""),
        "AUTOTASK_SECRET": get("AUTOTASK_SECRET", ""),
        "AUTOTASK_INTEGRATION_CODE": get("AUTOTASK_INTEGRATION_CODE", ""),
        # Autotask's zone discovery; the answer (the tenant's API host) is cached per process.
        "AUTOTASK_ZONE_URL": get(
            "AUTOTASK_ZONE_URL", "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
        ),
        # The API root (".../ATServicesRest/V1.0/"), to skip zone discovery; empty to discover it.
        "AUTOTASK_API_URL": get("AUTOTASK_API_URL", ""),
        # Seconds a job waits for one Autotask answer.
        "AUTOTASK_TIMEOUT_SECONDS": float(get("AUTOTASK_TIMEOUT_SECONDS", "10")),
        # Seconds all Autotask calls together may take while a caller waits; then the ticket is pushed later.
        "AUTOTASK_CALLER_SECONDS": float(get("AUTOTASK_CALLER_SECONDS", "5")),
        # Autotask status label for each desk status (picklist ids are read from the instance, never set here).
        "AUTOTASK_STATUS_LABELS": parse_mapping(
            get(
                "AUTOTASK_STATUS_LABELS",
                "new=New,in_progress=In Progress,waiting_customer=Waiting Customer,resolved=Complete,closed=Complete",
            )
        ),
        # Autotask priority label for each desk priority (1 is the highest).
        "AUTOTASK_PRIORITY_LABELS": parse_mapping(
            get("AUTOTASK_PRIORITY_LABELS", "1=Critical,2=High,3=Medium,4=Low"), key=int
        ),
        # Source and queue labels of tickets opened by phone ("" leaves the field to Autotask's defaults).
        "AUTOTASK_SOURCE_LABEL": env.get("AUTOTASK_SOURCE_LABEL", "Phone"),
        "AUTOTASK_QUEUE_LABEL": env.get("AUTOTASK_QUEUE_LABEL", "Level I Support"),
        # Note type and publish labels of the notes the desk writes on Autotask tickets.
        "AUTOTASK_NOTE_TYPE_LABEL": get("AUTOTASK_NOTE_TYPE_LABEL", "Task Notes"),
        "AUTOTASK_NOTE_PUBLISH_LABEL": get("AUTOTASK_NOTE_PUBLISH_LABEL", "Internal Only"),
        # Autotask ticket type labels of an incident's own ticket and of the callers' tickets linked to it.
        "AUTOTASK_PROBLEM_TYPE_LABEL": get("AUTOTASK_PROBLEM_TYPE_LABEL", "Problem"),
        "AUTOTASK_INCIDENT_TYPE_LABEL": get("AUTOTASK_INCIDENT_TYPE_LABEL", "Incident"),
        # Autotask company of callers whose number matches no company (0 is the desk's own company).
        "AUTOTASK_DEFAULT_COMPANY_ID": number("AUTOTASK_DEFAULT_COMPANY_ID", 0),
        # Hours until a new ticket is due, per desk priority (Autotask requires a due date).
        "AUTOTASK_DUE_HOURS": parse_mapping(get("AUTOTASK_DUE_HOURS", "1=4,2=8,3=24,4=72"), key=int, value=int),
        # Seconds Autotask's picklists (entityInformation/fields) are cached per process.
        "AUTOTASK_CACHE_SECONDS": number("AUTOTASK_CACHE_SECONDS", 3600),
        # Seconds between two read-backs of the open tickets changed inside Autotask (completed there: survey).
        "AUTOTASK_FOLLOW_SECONDS": number("AUTOTASK_FOLLOW_SECONDS", 300),
        # After a failed push a ticket waits this long, doubled per failure up to the maximum: a ticket
        # opened during a short outage reaches Autotask within the maximum of its answering again.
        "AUTOTASK_BACKOFF_SECONDS": number("AUTOTASK_BACKOFF_SECONDS", 15),
        "AUTOTASK_MAX_BACKOFF_SECONDS": number("AUTOTASK_MAX_BACKOFF_SECONDS", 60),
        # Contract kinds by the words in an Autotask contract's name ("Magic 2026" is Magic); the best one
        # in force is the company's.
        "AUTOTASK_CONTRACT_KINDS": parse_mapping(get("AUTOTASK_CONTRACT_KINDS", "magic=magic,wise=wise,basic=basic")),
        # The contact user-defined field holding the contact's language (nl, fr, en, or the language's name).
        "AUTOTASK_LANGUAGE_UDF": get("AUTOTASK_LANGUAGE_UDF", "Language"),
        # Seconds between two directory syncs (changes since the last one), and Autotask requests one sync
        # may make: Autotask allows 10,000 an hour to the whole instance, shared with the tickets.
        "AUTOTASK_DIRECTORY_SECONDS": number("AUTOTASK_DIRECTORY_SECONDS", 900),
        "AUTOTASK_DIRECTORY_REQUESTS": number("AUTOTASK_DIRECTORY_REQUESTS", 200),
        # Seconds a satisfaction survey's rating links stay valid (30 days).
        "SURVEY_TOKEN_MAX_AGE": number("SURVEY_TOKEN_MAX_AGE", 30 * 86400),
        # Outgoing mail (unreachable notices, surveys). No host: mail is logged, not sent.
        "SMTP_HOST": get("SMTP_HOST", ""),
        "SMTP_PORT": number("SMTP_PORT", 25),
        "SMTP_USERNAME": get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": get("SMTP_STARTTLS", "0") == "1",
        "MAIL_FROM": get("MAIL_FROM", "Service Desk <servicedesk@localhost>"),
        # Comma-separated addresses of the managers told by mail of every survey rating of 1 or 2.
        "MANAGER_EMAILS": [address.strip() for address in get("MANAGER_EMAILS", "").split(",") if address.strip()],
        # Prompt language when the caller does not choose one (and of the safe path).
        "DEFAULT_LANGUAGE": get("DEFAULT_LANGUAGE", "nl"),
        # <Say> voice and BCP-47 code per language: Belgian Dutch and French, British English.
        "SAY_VOICE": parse_pairs(
            get("SAY_VOICES", "nl=Polly.Lisa-Neural,fr=Polly.Isabelle-Neural,en=Polly.Amy-Neural")
        ),
        "SAY_LANGUAGE": parse_pairs(get("SAY_LANGUAGES", "nl=nl-BE,fr=fr-BE,en=en-GB")),
        # Weekly opening hours, Europe/Brussels: "mon-fri 08:00-18:00; sat 09:00-12:00".
        "OPENING_HOURS": parse_hours(get("OPENING_HOURS", "mon-fri 08:00-18:00")),
        # Country whose public holidays close the desk ("" for none).
        "PUBLIC_HOLIDAYS": env.get("PUBLIC_HOLIDAYS", "BE"),
    }


def parse_mapping(raw: str, key: Callable[[str], Any] = str, value: Callable[[str], Any] = str) -> dict:
    """``a=x,b=y`` as a dict, keys and values converted by ``key`` and ``value``."""
    pairs = (pair.partition("=") for pair in raw.split(",") if pair.strip())
    return {key(name.strip()): value(mapped.strip()) for name, _, mapped in pairs}
