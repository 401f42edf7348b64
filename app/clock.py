"""The desk's clock: stored times are naive UTC, people see Europe/Brussels.

Timestamps are stored naive UTC (``utcnow()``) so SQLite and PostgreSQL
compare them the same way; the desk's own time zone is used for what people
read and for "today" (ticket numbers, the board's figures, opening hours).
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DESK_TIMEZONE = ZoneInfo("Europe/Brussels")


def utcnow() -> datetime:
    """Now, as the naive UTC the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def local(moment: datetime | None = None) -> datetime:
    """A stored (naive UTC) moment, or now, on the desk's clock."""
    return (moment or utcnow()).replace(tzinfo=UTC).astimezone(DESK_TIMEZONE)


def as_utc(moment: datetime) -> datetime:
    """A desk (aware) time as the naive UTC the database stores."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def day_start(now: datetime | None = None) -> datetime:
    """Midnight of the desk's current day, as naive UTC like the stored times."""
    midnight = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return as_utc(midnight)
