"""Tried as a new user would, in the phone lab: declare an incident on the board, call from a contact
of that company, hear it, join, and receive the manager's update as a text message on the lab's phone."""

import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.helpers import add_contact, add_user

CUSTOMER = "+32470123456"
CALL_SECONDS = 60


def test_a_caller_joins_an_incident_from_the_lab_and_gets_the_update(desk, page: Page, worker):
    add_user("boss")
    add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok")
    log_in(page, desk.url, "boss")

    incidents = page.locator("#incidents")
    incidents.locator("summary").click()
    form = incidents.locator("details form")
    form.locator('select[name="company_id"]').select_option(label="Brouwerij De Klok")
    form.locator('input[name="title"]').fill("Internet down")
    form.locator('input[name="say"]').fill("an internet outage at Brouwerij De Klok")
    form.get_by_role("button", name="Declare").click()
    expect(incidents.locator("article.incident")).to_contain_text("Internet down")

    page.goto(f"{desk.url}/lab")
    customer = page.locator("#customer-phone")
    expect(customer.locator(".status")).to_have_text("Idle")
    customer.get_by_role("button", name="Call desk").click()
    screen = customer.locator(".screen")
    expect(screen).to_contain_text("We know about an internet outage at Brouwerij De Klok.")
    expect(customer).to_have_attribute("data-listening", "keys")
    customer.locator('button[data-key="1"]').click()
    expect(screen).to_contain_text("We will keep you informed by text message.")
    deadline = time.monotonic() + CALL_SECONDS
    while customer.get_attribute("data-status") != "idle" and time.monotonic() < deadline:
        time.sleep(0.2)

    page.goto(f"{desk.url}/board")
    article = page.locator("article.incident")
    expect(article).to_contain_text("1 caller(s) kept informed")
    article.locator('input[name="text"]').first.fill("The line is being repaired; back by 14:00.")
    article.get_by_role("button", name="Send update").click()
    expect(page.locator("#live .flash")).to_contain_text("Update sent")

    page.goto(f"{desk.url}/lab")
    expect(page.locator("#customer-texts")).to_contain_text(
        "Service desk, Internet down: The line is being repaired; back by 14:00.", timeout=20_000
    )
    screenshot(page, "lab-incident")
