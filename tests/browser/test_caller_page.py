"""The caller's page from the SMS on a phone-sized screen: shows the place, moves, cancels; the board follows."""

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LIVE_TIMEOUT_MS, log_in, screenshot
from tests.browser.test_board_page import phone_in
from tests.helpers import add_contact, add_user

CUSTOMER = "+32470123456"
#: The board polls every 2 s: a change shows within that, plus a request's time.
BOARD_FOLLOWS_MS = 3_000


def test_the_caller_moves_then_cancels_from_the_sms_link_and_the_board_follows(desk, browser: Browser, page: Page):
    add_user("boss")
    add_contact("An Peeters", CUSTOMER)
    log_in(page, desk.url, "boss")
    phone_in(desk, CUSTOMER, ["2", "#", "1", "1", "1"])
    desk.run_jobs()
    [sms] = [message for message in desk.emulator.messages if message["to"] == CUSTOMER]
    link = re.search(r"http://\S+/c/\S+", sms["body"]).group(0)
    row = page.locator("#waiting tbody tr")
    expect(row).to_have_count(1)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    mobile.set_default_timeout(LIVE_TIMEOUT_MS)
    mobile.goto(link)
    expect(mobile.locator("#position")).to_have_text("You are number 1 in the callback queue.")
    expect(mobile.locator("#expected")).to_contain_text("We expect to call you back")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    screenshot(mobile, "caller-page")

    choice = mobile.locator('input[name="window"]').nth(1)
    label = mobile.locator("fieldset label").nth(1).inner_text().strip()
    choice.check()
    mobile.get_by_role("button", name="Move my callback").click()
    expect(mobile.locator("#notice")).to_have_text("Your callback is moved.")
    expect(mobile.locator("#expected")).to_have_text(f"We will call you back {label}.")
    expect(row.locator("[data-window]")).to_be_visible(timeout=BOARD_FOLLOWS_MS)
    expect(page.locator('[data-figure="moved_by_caller"]')).to_have_text("1", timeout=BOARD_FOLLOWS_MS)

    mobile.get_by_role("button", name="Cancel my callback").click()
    expect(mobile.locator("#notice")).to_have_text("Your callback has been cancelled.")
    expect(row).to_have_count(0, timeout=BOARD_FOLLOWS_MS)
    expect(page.locator('[data-figure="cancelled_by_caller"]')).to_have_text("1", timeout=BOARD_FOLLOWS_MS)

    mobile.goto(link)  # the same link again
    expect(mobile.locator("#invalid")).to_contain_text("This link is no longer valid.")
    mobile.goto(link[:-3] + "abc")  # a forged one
    expect(mobile.locator("#invalid")).to_contain_text("This link is no longer valid.")
    phone.close()
