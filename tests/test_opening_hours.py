from datetime import datetime

import pytest

from app import clock, opening_hours
from app.opening_hours import parse_hours

# Naive UTC moments; Brussels is UTC+1 in winter.
TUESDAY_NOON = datetime(2026, 11, 24, 11, 0)
TUESDAY_EVENING = datetime(2026, 11, 24, 18, 30)
FRIDAY_EVENING = datetime(2026, 11, 27, 17, 30)
CHRISTMAS = datetime(2026, 12, 25, 10, 0)


@pytest.fixture
def desk_hours(app):
    app.config.update(OPENING_HOURS=parse_hours("mon-fri 08:00-18:00"), PUBLIC_HOLIDAYS="BE")
    return app


def test_parse_hours_reads_ranges_lists_and_midnight():
    schedule = parse_hours("mon-wed 08:00-12:00; mon,fri 13:00-17:30; sun 00:00-24:00")
    assert [len(schedule[day]) for day in range(7)] == [2, 1, 1, 0, 1, 0, 1]
    assert str(schedule[4][0][1]) == "17:30:00"


def test_the_desk_is_open_on_weekdays_in_brussels_time(desk_hours):
    assert opening_hours.is_open(TUESDAY_NOON)
    assert not opening_hours.is_open(TUESDAY_EVENING)
    # 07:30 UTC is 08:30 in Brussels.
    assert opening_hours.is_open(datetime(2026, 11, 24, 7, 30))


def test_after_friday_closing_the_next_opening_is_monday_morning(desk_hours):
    assert not opening_hours.is_open(FRIDAY_EVENING)
    opening = opening_hours.next_opening(FRIDAY_EVENING)
    assert (opening.weekday(), opening.hour, opening.minute) == (0, 8, 0)
    assert clock.as_utc(opening) == datetime(2026, 11, 30, 7, 0)


def test_belgian_public_holidays_are_closed(desk_hours):
    assert not opening_hours.is_open(CHRISTMAS)
    assert opening_hours.next_opening(CHRISTMAS).date().isoformat() == "2026-12-28"


def test_holidays_can_be_ignored(desk_hours):
    desk_hours.config["PUBLIC_HOLIDAYS"] = ""
    assert opening_hours.is_open(CHRISTMAS)


def test_closing_time_is_the_end_of_the_current_span(desk_hours):
    assert opening_hours.closing_time(TUESDAY_NOON).hour == 18
    assert opening_hours.closing_time(TUESDAY_EVENING) is None
