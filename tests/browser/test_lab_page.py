"""The phone lab in a real browser: a customer phones the desk from the page, a technician's
phone on the page rings with the offer and accepts, the customer's phone rings and answers —
all through the emulator's signed webhooks — and the callback ends completed."""

import time

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt
from tests.browser.conftest import log_in, screenshot
from tests.helpers import add_contact, add_technician, add_user

CUSTOMER = "+32470123456"
JAN = "+32470000001"
#: What the customer answers to each menu, by a phrase of its prompt (DESIGN §3 wording).
ANSWERS = {
    "To report a new problem, press 2": "2",
    "describe your problem briefly": "#",
    "If you can keep working, press 1": "1",
    "If only you are affected, press 1": "1",
    "To confirm, press 1": "1",
    # No key keeps the estimated time: the desk says goodbye when the menu times out.
    "To choose a later time, press 1": "",
}
#: An IVR call in real time (prompts are spoken at speech pace) stays well under this.
CALL_SECONDS = 90


def answer_the_menus(phone: Locator) -> None:
    """Press the key each menu asks for, as soon as it listens, until the desk hangs up."""
    deadline = time.monotonic() + CALL_SECONDS
    pressed = 0
    while time.monotonic() < deadline:
        status = phone.get_attribute("data-status")
        if status == "idle" and pressed:
            return
        if phone.get_attribute("data-listening"):
            lines = phone.locator(".screen p").all_inner_texts()
            prompt = " ".join(lines[-2:])  # a beep follows its prompt
            key = next((key for phrase, key in ANSWERS.items() if phrase in prompt), None)
            assert key is not None, f"no answer planned for: {prompt}"
            if not key:
                time.sleep(0.1)
                continue
            phone.locator(f'button[data-key="{key}"]').click()
            pressed += 1
            # The desk answers with its next prompt (or hangs up) before the next key.
            expect(phone.locator(".screen p").nth(len(lines))).to_be_attached()
        time.sleep(0.1)
    raise AssertionError("the IVR call did not end")


def test_a_call_made_from_the_phone_lab_ends_as_a_completed_callback(desk, page: Page, worker):
    add_user("boss")
    add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok")
    add_technician("Jan Janssens", JAN, languages="en,nl")
    log_in(page, desk.url, "boss")
    page.goto(f"{desk.url}/lab")
    customer = page.locator("#customer-phone")
    jan = page.locator(f'.phone[data-number="{JAN}"]')
    expect(customer.locator(".status")).to_have_text("Idle")

    customer.get_by_role("button", name="Call desk").click()
    expect(customer).to_have_attribute("data-status", "in-call")
    answer_the_menus(customer)
    expect(customer.locator(".screen")).to_contain_text("You are number 1 in the callback queue.")

    # The worker offers the callback to Jan: his phone on the page rings.
    expect(jan).to_have_attribute("data-status", "ringing", timeout=20_000)
    jan.get_by_role("button", name="Answer").click()
    expect(jan.locator(".screen")).to_contain_text("Callback for An Peeters, Brouwerij De Klok")
    expect(jan).to_have_attribute("data-listening", "keys")
    jan.locator('button[data-key="1"]').click()

    # Jan pressed 1: the customer's phone rings with the desk's number.
    expect(customer).to_have_attribute("data-status", "ringing", timeout=20_000)
    expect(customer.locator(".status")).to_contain_text("+3234603535")
    customer.get_by_role("button", name="Answer").click()
    expect(jan.locator(".status")).to_have_text(f"Talking with {CUSTOMER}")
    expect(customer.locator(".status")).to_have_text(f"Talking with {JAN}")
    screenshot(page, "lab")
    time.sleep(1.5)
    customer.get_by_role("button", name="Hang up").click()
    # The after-call menu: Jan spoke with the customer.
    expect(jan.locator(".screen")).to_contain_text("If you spoke with the customer, press 1.")
    expect(jan).to_have_attribute("data-listening", "keys")
    jan.locator('button[data-key="1"]').click()
    expect(jan.locator(".screen")).to_contain_text("The call has ended.")
    expect(jan).to_have_attribute("data-status", "idle")

    db.session.expire_all()
    callback = db.session.scalars(select(Callback)).one()
    *earlier, attempt = db.session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id)).all()
    # On a busy machine a ring may time out before the page answers it: offered again, never connected twice.
    assert all(missed.outcome == "technician_missed" for missed in earlier)
    assert (callback.status, attempt.outcome) == ("completed", "connected") and attempt.talk_seconds >= 1
    assert desk.emulator.requests and all(r["status"] == 200 for r in desk.emulator.requests)
