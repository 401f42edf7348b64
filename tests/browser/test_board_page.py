"""The manager's board in a real browser: live without reloading, and cancelling a callback."""

import threading

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Callback
from emulator import Phone
from tests.browser.conftest import log_in, screenshot
from tests.helpers import add_contact, add_technician, add_user
from tests.test_unavailable import database_down

CUSTOMER = "+32470123456"
SECOND = "+32475987654"


def phone_in(desk, caller: str, keys: list[str]) -> None:
    """A customer phones the desk through the emulator, in the background like a real call."""
    thread = threading.Thread(target=desk.emulator.place_inbound_call, kwargs={"from_": caller, "keys": keys})
    thread.start()
    thread.join(timeout=30)


def test_a_manager_sees_new_callbacks_appear_and_cancels_one(desk, page: Page):
    add_user("boss")
    add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok")
    add_technician("Jan Janssens", "+32470000001", state="away")
    add_technician("Marie Dubois", "+32470000002", state="on_call")
    desk.emulator.set_phone(SECOND, Phone(keys=[]))
    log_in(page, desk.url, "boss")
    expect(page).to_have_url(f"{desk.url}/board")
    expect(page.locator("#live")).to_contain_text("Nobody is waiting for a callback.")
    page.evaluate("window.sameDocument = true")

    phone_in(desk, CUSTOMER, ["2", "printer on fire#", "2", "2", "1"])
    waiting = page.locator("#waiting tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting.first).to_contain_text("An Peeters")
    expect(waiting.first).to_contain_text("Brouwerij De Klok")
    expect(waiting.first).to_contain_text("P2")
    phone_in(desk, SECOND, ["2", "#", "1", "1", "1"])
    expect(waiting).to_have_count(2)
    expect(page.locator('[data-figure="queued"]')).to_have_text("2")
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    screenshot(page, "board")

    waiting.filter(has_text="0475 98 76 54").get_by_role("button", name="Cancel").click()
    expect(waiting).to_have_count(1)
    expect(page.locator("#live .flash")).to_contain_text("cancelled")
    expect(page.locator('[data-figure="cancelled"]')).to_have_text("1")
    db.session.expire_all()
    statuses = {c.phone: c.status for c in db.session.scalars(select(Callback))}
    assert statuses == {CUSTOMER: "waiting", SECOND: "cancelled"}


def test_a_manager_changes_a_priority_and_sets_a_technician_available(desk, page: Page, worker):
    add_user("boss")
    add_technician("Jan Janssens", "+32470000001", state="away")
    desk.emulator.set_phone(CUSTOMER, Phone(keys=[]))
    phone_in(desk, CUSTOMER, ["2", "#", "1", "1", "1"])
    log_in(page, desk.url, "boss")

    row = page.locator("#waiting tbody tr").first
    expect(row).to_contain_text("P4")
    row.locator('select[name="priority"]').select_option("2")
    row.get_by_role("button", name="Set").click()
    expect(page.locator("#waiting tbody tr").first).to_contain_text("P2")

    # Jan comes back: dispatch runs in the worker and his (scripted) phone is rung with the offer.
    desk.emulator.set_phone("+32470000001", Phone(ring_seconds=8, keys=["2"]))
    page.locator("#technicians tr[data-technician]").get_by_role("button", name="Set available").click()
    expect(page.locator("#technicians")).to_contain_text("offered")
    expect(page.locator("#in-progress")).to_contain_text("ringing technician")


def test_the_board_says_when_the_database_is_down_and_recovers_by_itself(desk, page: Page):
    add_user("boss")
    add_technician("Jan Janssens", "+32470000001", state="away")
    log_in(page, desk.url, "boss")
    expect(page.locator("#live")).to_contain_text("Jan Janssens")
    page.evaluate("window.sameDocument = true")
    with database_down():
        banner = page.locator("#desk-problem")
        expect(banner).to_contain_text("The desk's database does not answer right now.")
        expect(page.locator("#live")).to_contain_text("Jan Janssens")  # the last good content stays
    expect(page.locator("#desk-problem")).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True  # it kept polling; nobody reloaded the page
