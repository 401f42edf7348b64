"""The directory pages for a manager whose account says Dutch, and a French caller's page in a Dutch browser."""

from playwright.sync_api import Browser, Page, expect

from app import callback_links
from app.extensions import db
from app.models import User
from app.tickets import ticket_store
from callbacks.queue import queue_callback
from tests.browser.conftest import LIVE_TIMEOUT_MS, log_in, screenshot
from tests.helpers import add_contact, add_user


def test_a_dutch_manager_keeps_the_directory_in_dutch(desk, page: Page):
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "nl"})
    db.session.commit()
    add_contact("An Peeters", "+32470123456")
    log_in(page, desk.url, "marie")

    page.get_by_role("link", name="Adresboek").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("h1")).to_have_text("Contactpersonen")
    expect(page.locator("table thead")).to_contain_text("Bedrijf")
    expect(page.locator(".pager")).to_contain_text("gevonden")

    page.locator(".admin-nav").get_by_role("link", name="Bedrijven").click()
    expect(page.locator("h1")).to_have_text("Bedrijven")
    page.get_by_role("link", name="Bedrijf toevoegen").click()
    expect(page.locator("h1")).to_have_text("Bedrijf toevoegen")
    expect(page.locator("select[name=contract] option[value=none]")).to_have_text("geen contract")
    page.get_by_label("Naam").fill("Drukkerij Van Aken")
    page.get_by_role("button", name="Bewaren").click()
    expect(page.locator(".flash")).to_have_text("Drukkerij Van Aken is bewaard.")
    expect(page.locator("table tbody")).to_contain_text("ja")
    screenshot(page, "directory-nl")

    page.locator(".admin-nav").get_by_role("link", name="Technici").click()
    expect(page.locator("h1")).to_have_text("Technici")
    page.locator(".admin-nav").get_by_role("link", name="Gebruikers").click()
    expect(page.locator("table tbody")).to_contain_text("manager")
    expect(page.get_by_role("link", name="Gebruiker toevoegen")).to_be_visible()
    page.locator(".admin-nav").get_by_role("link", name="Import / export").click()
    expect(page.get_by_role("button", name="Importeren")).to_be_visible()


def test_a_french_callers_page_is_french_in_a_dutch_browser(desk, browser: Browser):
    ticket = ticket_store().create(title="Imprimante", priority=3)
    callback = queue_callback(ticket, "+32470123456", 3, "fr")[0]
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="nl-BE")
    mobile = phone.new_page()
    mobile.set_default_timeout(LIVE_TIMEOUT_MS)
    mobile.goto(f"{desk.url}/c/{callback_links.token_for(callback.id)}")
    expect(mobile.locator("html")).to_have_attribute("lang", "fr")
    expect(mobile.locator("h1")).to_have_text("Votre rappel")
    expect(mobile.locator("#position")).to_have_text("Vous êtes numéro 1 dans la file de rappel.")
    expect(mobile.locator("fieldset legend")).to_have_text("Choisir un autre moment")
    expect(mobile.locator("fieldset label").first).to_contain_text(" entre ")
    mobile.locator('input[name="window"]').first.check()
    mobile.get_by_role("button", name="Déplacer mon rappel").click()
    expect(mobile.locator("#notice")).to_have_text("Votre rappel a été déplacé.")
    expect(mobile.locator("#expected")).to_contain_text("Nous vous rappellerons le ")
    mobile.get_by_role("button", name="Annuler mon rappel").click()
    expect(mobile.locator("#notice")).to_have_text("Votre rappel a été annulé.")
    # A forged link has no callback to speak for: the browser's language.
    mobile.goto(f"{desk.url}/c/forged")
    expect(mobile.locator("#invalid")).to_contain_text("Deze link is niet meer geldig.")
    phone.close()
