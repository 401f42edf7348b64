"""How the stand-in's API looks on the wire: its root path and Autotask's timestamps."""

from datetime import UTC, datetime

API_ROOT = "/atservicesrest/v1.0/"


def timestamp(moment: datetime | None = None) -> str:
    """A UTC time as Autotask writes it: ``2026-11-27T14:03:07.123Z``."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
