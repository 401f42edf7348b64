"""A later time (DESIGN §3.9): the IVR offers half-day windows within opening hours; the engine keeps them."""

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from app.clock import DESK_TIMEZONE, as_utc, local
from app.extensions import db
from app.models import Callback, Company, Contact, ContactPhone
from app.opening_hours import parse_hours
from app.tickets import ticket_store
from callbacks import manage
from callbacks.estimate import wait_prompt
from callbacks.queue import position, queue_callback
from tests.helpers import add_technician, claim_next

SID = "CA" + "7" * 32
CALLER = "+32470123456"
LANGUAGES = ("nl", "fr", "en")
OFFER = {
    "nl": "Om een later tijdstip te kiezen, druk 1.",
    "fr": "Pour choisir un moment plus tard, appuyez sur 1.",
    "en": "To choose a later time, press 1.",
}
MONDAY_MORNING = {
    "nl": ("Voor maandagvoormiddag, druk 2.", "We bellen u maandagvoormiddag terug."),
    "fr": ("Pour lundi matin, appuyez sur 2.", "Nous vous rappellerons lundi matin."),
    "en": ("For Monday morning, press 2.", "We will call you back Monday morning."),
}
TUESDAY_MORNING = {"nl": "dinsdagvoormiddag", "fr": "mardi matin", "en": "Tuesday morning"}


def brussels(*args) -> datetime:
    return datetime(*args, tzinfo=DESK_TIMEZONE)


@pytest.fixture
def office_hours(app):
    """The desk's real week: Monday to Friday 08:00-18:00, closed on Belgian public holidays."""
    app.config.update(OPENING_HOURS=parse_hours("mon-fri 08:00-18:00"), PUBLIC_HOLIDAYS="BE")


def heard(response) -> str:
    assert response.status_code == 200, response.data
    return " ".join(element.text or "" for element in ET.fromstring(response.data).iter("Say"))


def queue_by_phone(provider, language: str) -> str:
    """A known caller reports a problem (can work, only me: P4) and confirms the caller ID."""
    contact = Contact(name="An", company=Company(name="Brouwerij De Klok"), language=language)
    contact.phones.append(ContactPhone(e164=CALLER))
    db.session.add(contact)
    db.session.commit()
    provider.post("/voice/incoming", SID, CALLER)
    provider.post("/voice/main-menu?try=0", SID, CALLER, Digits="2")
    provider.post("/voice/recorded", SID, CALLER, Digits="#")
    provider.post("/voice/urgency?try=0", SID, CALLER, Digits="1")
    provider.post("/voice/impact?try=0", SID, CALLER, Digits="1")
    return heard(provider.post("/voice/confirm-number?try=0", SID, CALLER, Digits="1"))


def choose_second_window(provider) -> tuple[str, str]:
    """Press 1 for a later time, then 2: the options heard and the confirmation."""
    options = provider.post("/voice/later", SID, CALLER, Digits="1")
    action = ET.fromstring(options.data).find("Gather").get("action").removeprefix("http://desk.test")
    return heard(options), heard(provider.post(action, SID, CALLER, Digits="2"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_tomorrow_morning_on_a_friday_is_monday_morning_and_the_callback_waits_for_it(provider, office_hours, language):
    with time_machine.travel(brussels(2026, 12, 4, 9, 0), tick=False) as traveller:
        ticket = ticket_store().create(title="Printer", priority=4)
        first = queue_callback(ticket, "+32470999991", 4, "en")[0]
        second = queue_callback(ticket, "+32470999992", 4, "en")[0]
        traveller.move_to(brussels(2026, 12, 4, 10, 0))
        assert OFFER[language] in queue_by_phone(provider, language)
        offered, confirmed = choose_second_window(provider)
        assert MONDAY_MORNING[language][0] in offered
        assert MONDAY_MORNING[language][1] in confirmed
        scheduled = db.session.scalars(select(Callback).where(Callback.phone == CALLER)).one()
        db.session.refresh(scheduled)
        assert local(scheduled.scheduled_for) == brussels(2026, 12, 7, 8, 0)
        assert local(scheduled.window_ends_at) == brussels(2026, 12, 7, 12, 0)
        assert (scheduled.priority, scheduled.status) == (4, "waiting")

        # Monday 07:59: the scheduled callback sorts first of its priority but is not offered yet.
        traveller.move_to(brussels(2026, 12, 7, 7, 59))
        add_technician("Jan", "+32470000111", languages="nl,fr,en")
        assert claim_next().callback_id == first.id
        # 08:00: its window is open; it goes before the unscheduled P4 queued before it.
        traveller.move_to(brussels(2026, 12, 7, 8, 0))
        add_technician("Els", "+32470000222", languages="nl,fr,en")
        assert claim_next().callback_id == scheduled.id
        assert second.queued_at < scheduled.queued_at


def test_the_day_after_a_belgian_holiday_when_monday_is_one(provider, office_hours):
    # Friday 26 March 2027; Monday 29 March is Easter Monday.
    with time_machine.travel(brussels(2027, 3, 26, 10, 0), tick=False):
        queue_by_phone(provider, "en")
        offered, confirmed = choose_second_window(provider)
        assert "For Tuesday morning, press 2." in offered and "Tuesday morning" in confirmed
        callback = db.session.scalars(select(Callback)).one()
        db.session.refresh(callback)
        assert local(callback.scheduled_for) == brussels(2027, 3, 30, 8, 0)


def test_no_key_keeps_the_estimate(provider, office_hours):
    with time_machine.travel(brussels(2026, 12, 2, 9, 0), tick=False):
        queue_by_phone(provider, "en")
        response = provider.post("/voice/later", SID, CALLER)
        assert "Goodbye" in heard(response) and ET.fromstring(response.data).find("Hangup") is not None
        assert db.session.scalars(select(Callback)).one().scheduled_for is None


def test_a_scheduled_window_is_ahead_of_nobody_until_it_opens_and_estimates_count_it(app, office_hours):
    with time_machine.travel(brussels(2026, 12, 2, 9, 0), tick=False):
        contact = Contact(name="An", company=Company(name="K"), language="en")
        db.session.add(contact)
        db.session.commit()
        ticket = ticket_store().create(title="x", priority=4)
        scheduled = queue_callback(ticket, "+32470000001", 4, "en")[0]
        manage.schedule(scheduled.id, as_utc(brussels(2026, 12, 2, 9, 10)), as_utc(brussels(2026, 12, 2, 12, 0)), "t")
        later = queue_callback(ticket, "+32470000002", 4, "en")[0]
        assert position(later) == 1  # the window has not opened
        add_technician("Jan", "+32470000111", languages="en")
        # 1 ahead x 10 min by default: within 15 minutes, unless the window opening meanwhile is counted.
        assert wait_prompt(later, 1) == "wait_30"


@pytest.mark.parametrize("at", ["", "garbage", "99999999999999999999", "0"])
def test_a_windows_menu_url_with_a_strange_moment_keeps_the_estimate(provider, office_hours, at):
    queue_by_phone(provider, "en")
    response = provider.post(f"/voice/window?at={at}&try=0", SID, CALLER, Digits="1")
    assert "Goodbye" in heard(response) and "went wrong" not in heard(response)
    assert db.session.scalars(select(Callback)).one().scheduled_for is None
