"""Configuration read from the environment, with every default in one place.

``from_environment()`` is called by ``create_app`` each time, so a test (or a
worker process) that sets variables before building the app gets them.
``create_app(overrides)`` may replace any setting. Secrets fall back to values
that only work with the local emulator.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent

DEFAULT_PRIORITY_MATRIX = (
    "cannot_work:me=3,cannot_work:several=2,cannot_work:company=1,can_work:me=4,can_work:several=4,can_work:company=3"
)


def parse_priority_matrix(raw: str) -> dict[tuple[str, str], int]:
    """Parse ``urgency:impact=P`` pairs, e.g. ``cannot_work:company=1``."""
    matrix = {}
    for pair in raw.split(","):
        key, _, priority = pair.strip().partition("=")
        urgency, _, impact = key.partition(":")
        matrix[(urgency, impact)] = int(priority)
    return matrix


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
        # Redis carries RQ jobs only; nothing in it is the only copy of anything.
        "REDIS_URL": get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "SECRET_KEY": get("SECRET_KEY", "dev-only-secret-change-me"),
        "TWILIO_ACCOUNT_SID": get("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        "TWILIO_AUTH_TOKEN": get("TWILIO_AUTH_TOKEN", "emulator-auth-token"),
        # Replaces the REST host: a local emulator or a Twilio-compatible provider.
        "TWILIO_API_BASE_URL": get("TWILIO_API_BASE_URL", ""),
        # The app's address as the provider sees it; signatures are checked against it.
        "PUBLIC_BASE_URL": get("PUBLIC_BASE_URL", f"http://127.0.0.1:{number('PORT', 5000)}").rstrip("/"),
        "DESK_NUMBER": get("DESK_NUMBER", "+3234603535"),
        "ONCALL_NUMBER": get("ONCALL_NUMBER", ""),
        # Region for numbers keyed or stored without a country code.
        "PHONE_REGION": get("PHONE_REGION", "BE"),
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
        # Seconds the IVR waits for a key before repeating a menu.
        "GATHER_TIMEOUT_SECONDS": number("GATHER_TIMEOUT_SECONDS", 6),
        # Longest problem description recorded, in seconds.
        "RECORDING_MAX_SECONDS": number("RECORDING_MAX_SECONDS", 120),
        # Outgoing mail (unreachable notices, surveys). No host: mail is logged, not sent.
        "SMTP_HOST": get("SMTP_HOST", ""),
        "SMTP_PORT": number("SMTP_PORT", 25),
        "SMTP_USERNAME": get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": get("SMTP_STARTTLS", "0") == "1",
        "MAIL_FROM": get("MAIL_FROM", "Service Desk <servicedesk@localhost>"),
        # Prompt language for callers whose language is not known.
        "DEFAULT_LANGUAGE": get("DEFAULT_LANGUAGE", "en"),
        # Voice and BCP-47 code per language for <Say>.
        "SAY_VOICE": {"nl": "Polly.Lotte", "fr": "Polly.Celine", "en": "Polly.Amy"},
        "SAY_LANGUAGE": {"nl": "nl-BE", "fr": "fr-BE", "en": "en-GB"},
    }
