"""Every SMS comes from SMS_FROM (DESIGN §2): the desk's landline cannot send SMS."""

import pytest

from app import notifications, preflight
from tests.test_preflight import findings

MOBILE = "+32470123456"
SERVICE = "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize("sender", ["Callbacks", "+32475111222", SERVICE])
def test_an_sms_goes_out_from_the_configured_sender(desk, sender):
    desk.app.config["SMS_FROM"] = sender
    assert notifications.queue_text(MOBILE, "Ticket T20261127.0001")
    desk.run_jobs()
    desk.emulator.wait_idle()
    [message] = desk.emulator.messages
    assert (message["to"], message["from"]) == (MOBILE, sender)


@pytest.mark.parametrize(
    ("sender", "problem"),
    [
        ("+3234603535", "+3234603535 is the desk number, a landline that cannot send SMS"),
        ("+3220000000", "+3220000000 is not a mobile number, so it cannot send SMS"),
        ("Callback Desk", "'Callback Desk' is not an alphanumeric sender (1 to 11 letters, digits or spaces"),
        ("12345", "'12345' is not an alphanumeric sender"),
        ("", "empty: set an alphanumeric sender"),
    ],
)
def test_flask_check_fails_a_sender_that_cannot_send_sms(app, sender, problem):
    app.config["SMS_FROM"] = sender
    failed = [finding for finding in preflight.settings() if finding.topic == "SMS_FROM"]
    assert [finding.level for finding in failed] == [preflight.FAIL]
    assert failed[0].text.startswith(problem)


def test_flask_check_names_a_good_sender(app):
    app.config["SMS_FROM"] = "ServiceDesk"
    assert findings(preflight.OK)["SMS_FROM"] == ["ServiceDesk"]
