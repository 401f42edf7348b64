"""The phone lab in a real browser: a phone switched to its voicemail, and back."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.helpers import add_contact, add_technician, add_user

CUSTOMER = "+32470123456"
JAN = "+32470000001"


def test_a_lab_phone_answered_by_its_voicemail(desk, page: Page):
    add_user("boss")
    add_contact("An Peeters", CUSTOMER)
    add_technician("Jan Janssens", JAN, languages="en")
    log_in(page, desk.url, "boss")
    page.goto(f"{desk.url}/lab")
    jan = page.locator(f'.phone[data-number="{JAN}"]')
    expect(jan.locator(".status")).to_have_text("Idle")

    jan.get_by_label("Who answers this phone").select_option("voicemail")
    expect(jan.locator(".status")).to_contain_text("Voicemail: picks up after 1 s")
    expect(jan.get_by_role("button", name="Answer")).to_be_disabled()
    assert desk.emulator.phones[JAN].machine

    page.reload()  # the choice is the emulator's: the page shows it again
    expect(jan.get_by_label("Who answers this phone")).to_have_value("voicemail")
    jan.get_by_label("Who answers this phone").select_option("person")
    expect(jan.locator(".status")).to_have_text("Idle")
    assert desk.emulator.phones[JAN].interactive and not desk.emulator.phones[JAN].machine
