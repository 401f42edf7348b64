"""The console's after-call outcomes in a real browser: the technician says voicemail with a click."""

from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Callback
from tests.browser.conftest import log_in
from tests.helpers import add_technician, add_user
from tests.test_console_outcomes import answered_call

JAN = "+32470000001"


def test_voicemail_chosen_on_the_console_puts_the_callback_back_to_waiting(desk, page: Page):
    jan = add_technician("Jan Janssens", JAN, languages="en")
    add_user("jan", "technician", jan)
    attempt = answered_call(jan)
    log_in(page, desk.url, "jan")
    expect(page.locator("#current")).to_contain_text("Wrap-up of your last call")
    page.get_by_role("button", name="Voicemail or nobody").click()
    expect(page.locator("#console-live .flash")).to_contain_text("waits in its place")
    expect(page.locator("#outcome")).to_have_count(0)
    expect(page.locator("#my-state")).to_have_text("available")
    db.session.expire_all()
    assert db.session.get(Callback, attempt.callback_id).status == "waiting"
