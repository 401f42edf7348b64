"""An account's admin page in a real browser: a manager disables an account (confirmed), its
open console stops at once; a new password set there is the one that logs in."""

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LIVE_TIMEOUT_MS, log_in, screenshot
from tests.helpers import add_technician, add_user

NEW_PASSWORD = "a-new-long-password"


def test_a_manager_disables_an_account_and_sets_its_new_password(desk, page: Page, browser: Browser):
    add_user("boss")
    add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    jans = browser.new_context().new_page()
    jans.set_default_timeout(LIVE_TIMEOUT_MS)
    log_in(jans, desk.url, "jan")
    expect(jans).to_have_url(f"{desk.url}/console")

    log_in(page, desk.url, "boss")
    page.get_by_role("link", name="Directory").click()
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="jan", exact=True).click()
    page.get_by_role("button", name="Disable").click()  # the unticked box stops the form in the browser
    expect(page.locator(".flash")).to_have_count(0)
    page.get_by_label("Yes, disable jan").check()
    screenshot(page, "admin-account")
    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".flash")).to_contain_text("jan is disabled: their sessions and API token stopped.")
    expect(page.get_by_role("button", name="Enable")).to_be_visible()

    jans.reload()
    expect(jans).to_have_url(f"{desk.url}/console")
    expect(jans.locator('input[name="username"]')).to_be_visible()  # the login form, not the console

    page.get_by_role("button", name="Enable").click()
    expect(page.locator(".flash")).to_contain_text("jan can log in again")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("The new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator(".flash")).to_contain_text("jan has a new password; their sessions ended.")

    log_in(jans, desk.url, "jan")
    expect(jans.locator('input[name="username"]')).to_be_visible()  # the old password is refused
    log_in(jans, desk.url, "jan", NEW_PASSWORD)
    expect(jans).to_have_url(f"{desk.url}/console")
    jans.context.close()
