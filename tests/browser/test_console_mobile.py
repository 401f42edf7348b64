"""The console on a phone (390 x 844): a technician on the road takes a callback without scrolling sideways."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from app.extensions import db
from app.models import Callback, Ticket
from emulator import Phone
from tests.browser.conftest import LIVE_TIMEOUT_MS, log_in, screenshot
from tests.helpers import add_contact, add_technician, add_user

CUSTOMER = "+32470123456"
JAN = "+32470000001"


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(LIVE_TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


@pytest.fixture
def long_wrap_up(desk, monkeypatch) -> None:
    monkeypatch.setenv("WRAP_UP_SECONDS", "300")
    desk.app.config["WRAP_UP_SECONDS"] = 300


def fits_the_screen(page: Page) -> None:
    """Nothing sticks out to the right: the page is no wider than the phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"


def test_a_technician_on_a_phone_takes_a_callback_and_resolves_the_ticket(desk, long_wrap_up, phone_page, worker):
    page = phone_page
    jan = add_technician("Jan Janssens", JAN, state="offline")
    add_user("jan", "technician", jan)
    add_contact("An Peeters", CUSTOMER, company="Transports Lemaire", contract="wise")
    desk.emulator.set_phone(JAN, Phone(ring_seconds=3, keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, Phone(talk_seconds=5, real_time=True))
    desk.emulator.place_inbound_call(from_=CUSTOMER, keys=["2", "mail server down#", "2", "1", "1"])
    callback = db.session.query(Callback).one()

    log_in(page, desk.url, "jan")
    expect(page).to_have_url(f"{desk.url}/console")
    fits_the_screen(page)
    page.get_by_role("button", name="Go available").click()
    expect(page.locator("#current")).to_contain_text("Offer ringing on your phone")
    fits_the_screen(page)
    expect(page.locator("#current")).to_contain_text("Wrap-up of your last call", timeout=20_000)
    fits_the_screen(page)

    page.locator("textarea[name=note]").fill("Mail server restarted; mail flows again.")
    page.get_by_role("button", name="Save note to ticket").click()
    expect(page.locator("#ticket .notes")).to_contain_text("Mail server restarted")
    fits_the_screen(page)
    screenshot(page, "console-phone")
    page.get_by_role("button", name="Resolve ticket").click()
    expect(page.locator("#console-live .flash")).to_contain_text("resolved and closed")
    fits_the_screen(page)

    db.session.expire_all()
    assert db.session.get(Ticket, callback.ticket_id).status == "closed"
