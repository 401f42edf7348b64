"""The reports and the board in a real browser, for a manager whose account says Dutch."""

from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import User
from tests.browser.conftest import log_in, screenshot
from tests.helpers import add_user


def test_a_dutch_manager_sees_the_board_and_the_reports_in_dutch(desk, page: Page):
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "nl"})
    db.session.commit()
    log_in(page, desk.url, "marie")
    expect(page).to_have_url(f"{desk.url}/board")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("h1")).to_have_text("Terugbelbord")
    expect(page.get_by_role("link", name="Rapporten")).to_be_visible()

    page.get_by_role("link", name="Rapporten").click()
    expect(page.locator("h1")).to_have_text("Rapporten")
    page.get_by_role("link", name="Vorige maand").click()
    expect(page.locator("#table-volumes thead")).to_contain_text("oproepen")
    expect(page.locator("#table-volumes tfoot")).to_contain_text("totaal")
    expect(page.locator("#heat-map")).to_be_visible()
    screenshot(page, "reports")

    page.locator("select[name=language]").select_option("fr")
    page.get_by_role("button", name="Wijzigen").click()
    expect(page.locator("h1")).to_have_text("Rapports")
