"""The technician's console in a real browser: go available, get an offer, take the call, wrap up."""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, Technician, Ticket
from emulator import Phone
from tests.browser.conftest import log_in, screenshot
from tests.helpers import add_contact, add_technician, add_user

CUSTOMER = "+32470123456"
JAN = "+32470000001"


@pytest.fixture
def long_wrap_up(desk, monkeypatch) -> None:
    """Five minutes of wrap-up, in the desk and in the worker started after this fixture."""
    monkeypatch.setenv("WRAP_UP_SECONDS", "300")
    desk.app.config["WRAP_UP_SECONDS"] = 300


def test_a_technician_goes_available_takes_the_offer_and_wraps_up(desk, long_wrap_up, page: Page, worker):
    jan = add_technician("Jan Janssens", JAN, state="offline")
    add_user("jan", "technician", jan)
    add_contact("An Peeters", CUSTOMER, company="Transports Lemaire", contract="wise")
    # Jan's phone rings for 3 s before he answers and presses 1; the customer talks for 5 s.
    desk.emulator.set_phone(JAN, Phone(ring_seconds=3, keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, Phone(talk_seconds=5, real_time=True))
    desk.emulator.place_inbound_call(from_=CUSTOMER, keys=["2", "mail server down#", "2", "1", "1"])
    callback = db.session.scalars(select(Callback)).one()
    assert callback.status == "waiting"  # nobody is available yet

    log_in(page, desk.url, "jan")
    expect(page).to_have_url(f"{desk.url}/console")
    expect(page.locator("#my-state")).to_have_text("offline")
    page.get_by_role("button", name="Go available").click()

    expect(page.locator("#current")).to_contain_text("Offer ringing on your phone")
    expect(page.locator("#contract")).to_contain_text("on-site visits included")
    expect(page.locator("#customer")).to_have_text("An Peeters")
    expect(page.locator("#current")).to_contain_text("On a call with the customer")
    expect(page.locator("#my-state")).to_have_text("on call")
    expect(page.locator("#current")).to_contain_text("Wrap-up of your last call", timeout=20_000)
    expect(page.locator("#my-state")).to_have_text("wrap up")
    expect(page.locator("#attempts")).to_contain_text("connected")

    page.locator("textarea[name=note]").fill("Mail server restarted; mail flows again.")
    screenshot(page, "console")
    page.get_by_role("button", name="Save note to ticket").click()
    expect(page.locator("#ticket .notes")).to_contain_text("Jan Janssens: Mail server restarted; mail flows again.")
    page.get_by_role("button", name="Resolve ticket").click()
    expect(page.locator("#console-live .flash")).to_contain_text("resolved and closed")
    page.get_by_role("button", name="Ready for the next call").click()
    expect(page.locator("#my-state")).to_have_text("available")

    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "completed"
    assert db.session.get(Ticket, callback.ticket_id).status == "closed"
    assert db.session.get(Technician, jan.id).state == "available"
