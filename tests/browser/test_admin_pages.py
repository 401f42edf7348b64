"""The directory admin pages in a real browser: what a manager types is what the phone line knows."""

from playwright.sync_api import Page, expect

from emulator import APP_ERROR_MESSAGE
from ivr import catalog
from tests.browser.conftest import log_in, screenshot
from tests.helpers import add_user
from tests.test_ivr_calls import closed_all_week

FIRST, SECOND = "+32470123456", "+32475111222"


def call_from(desk, caller: str, keys: list[str]) -> str:
    call = desk.emulator.place_inbound_call(from_=caller, keys=keys)
    desk.emulator.wait_idle()
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return " ".join(call.heard)


def test_a_contact_added_on_the_admin_pages_is_known_on_the_phone_until_deactivated(desk, page: Page):
    add_user("boss")
    closed_all_week(desk.app)
    log_in(page, desk.url, "boss")

    page.get_by_role("link", name="Directory").click()
    page.get_by_role("link", name="Companies").click()
    page.get_by_role("link", name="Add a company").click()
    page.get_by_label("Name").fill("Brouwerij De Klok")
    page.locator("select[name=contract]").select_option("magic")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Brouwerij De Klok is saved.")

    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Add a contact").click()
    page.get_by_label("Name").fill("An Peeters")
    page.get_by_label("Company").fill("Brouwerij De Klok")
    page.get_by_label("Phone numbers").fill("0470 12 34 56; 0475 11 12 2")
    page.locator("main select[name=language]").select_option("fr")  # the header has a language choice too
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("'0475 11 12 2' is not a valid phone number")
    page.get_by_label("Phone numbers").fill("0470 12 34 56; 0475 11 12 22")
    page.get_by_role("button", name="Save").click()
    row = page.locator("tbody tr", has_text="An Peeters")
    expect(row).to_contain_text("0475 11 12 22")
    screenshot(page, "admin-contacts")

    heard = call_from(desk, SECOND, [])
    assert catalog.text("fr", "greeting_known", name="An Peeters", company="Brouwerij De Klok") in heard
    assert catalog.text("fr", "closed_urgent_menu") in heard
    assert catalog.text("nl", "language_choice") not in heard

    row.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash")).to_contain_text("An Peeters is deactivated.")
    expect(row.get_by_role("button", name="Reactivate")).to_be_visible()

    heard = call_from(desk, SECOND, ["1"])
    assert catalog.text("nl", "language_choice") in heard
    assert "An Peeters" not in heard
    assert catalog.text("nl", "closed_urgent_menu") not in heard
