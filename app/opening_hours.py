"""When the desk is open: weekly hours in Europe/Brussels, closed on Belgian public holidays.

``OPENING_HOURS`` is a list like ``mon-fri 08:00-18:00; sat 09:00-12:00``;
``PUBLIC_HOLIDAYS`` names the country whose holidays close the desk (``BE``),
or is empty to ignore holidays.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays
from flask import current_app

from app.clock import DESK_TIMEZONE, local

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead the next opening is looked for (a long holiday season fits).
LOOKAHEAD_DAYS = 21

Schedule = dict[int, list[tuple[time, time]]]


def parse_hours(raw: str) -> Schedule:
    """``mon-fri 08:00-18:00; sat 09:00-12:00`` → {weekday: [(start, end), ...]}; ``24:00`` ends a day."""
    schedule: Schedule = {day: [] for day in range(7)}
    for entry in filter(None, (part.strip() for part in raw.split(";"))):
        days, _, span = entry.partition(" ")
        start, _, end = span.strip().partition("-")
        for day in _days(days.lower()):
            schedule[day].append((_clock(start), _clock(end)))
    return schedule


def _days(spec: str) -> list[int]:
    result = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        begin = DAYS.index(first)
        result.extend(range(begin, DAYS.index(last) + 1) if last else [begin])
    return result


def _clock(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time.max if (hours, minutes) == ("24", "00") else time(int(hours), int(minutes))


@cache
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def _is_holiday(day: date) -> bool:
    country = current_app.config["PUBLIC_HOLIDAYS"]
    return bool(country) and day in _holidays(country, day.year)


def _spans(day: date) -> list[tuple[time, time]]:
    if _is_holiday(day):
        return []
    return current_app.config["OPENING_HOURS"][day.weekday()]


def is_open(moment: datetime | None = None) -> bool:
    here = local(moment)
    return any(start <= here.time() < end for start, end in _spans(here.date()))


def closing_time(moment: datetime | None = None) -> datetime | None:
    """When the current opening span ends (Brussels time), or None when closed."""
    here = local(moment)
    for start, end in _spans(here.date()):
        if start <= here.time() < end:
            return datetime.combine(here.date(), end, DESK_TIMEZONE)
    return None


def next_opening(moment: datetime | None = None) -> datetime | None:
    """The next time the desk opens after ``moment`` (Brussels time), or None if not within three weeks."""
    here = local(moment)
    for offset in range(LOOKAHEAD_DAYS):
        day = here.date() + timedelta(days=offset)
        for start, _end in sorted(_spans(day)):
            opening = datetime.combine(day, start, DESK_TIMEZONE)
            if opening > here:
                return opening
    return None


#: Where a day's morning window ends and its afternoon window begins (callback windows, DESIGN §3.9).
NOON = time(12, 0)


@dataclass(frozen=True)
class Window:
    """A half-day within opening hours a caller may choose to be called back in (Brussels time)."""

    start: datetime
    end: datetime

    @property
    def part(self) -> str:
        return "morning" if self.start.time() < NOON else "afternoon"


def callback_windows(moment: datetime | None = None, count: int = 3) -> list[Window]:
    """The next ``count`` half-day windows that have not begun yet: mornings and afternoons of opening days.

    A window is never one that has begun: a caller who wants to be called now keeps the estimate.
    Holidays and closed days have none, so "tomorrow morning" on a Friday is Monday morning.
    """
    here = local(moment)
    found: list[Window] = []
    for offset in range(LOOKAHEAD_DAYS):
        day = here.date() + timedelta(days=offset)
        for start, end in sorted(_spans(day)):
            for low, high in ((time.min, NOON), (NOON, time.max)):
                begin, finish = max(start, low), min(end, high)
                if begin < finish:
                    window = Window(
                        datetime.combine(day, begin, DESK_TIMEZONE), datetime.combine(day, finish, DESK_TIMEZONE)
                    )
                    if window.start > here and (not found or found[-1].end <= window.start):
                        found.append(window)
                        if len(found) == count:
                            return found
    return found
