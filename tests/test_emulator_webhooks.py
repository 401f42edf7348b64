"""What the emulator sends to the desk: signed form posts, redirects, errors and the fallback URL."""

from __future__ import annotations

import socket

import pytest

from emulator import APP_ERROR_MESSAGE, CallRecord, Phone
from tests.emulator_rig import (
    ACCOUNT_SID,
    AGENT,
    CALLER,
    DESK,
    menu,
    twiml,
)

# -- webhooks ---------------------------------------------------------------


def test_webhooks_are_signed_form_posts_with_standard_params(emu, web):
    web.routes["/voice"] = twiml("<Say>Welcome to the desk.</Say>")

    rec = emu.place_inbound_call(from_=CALLER)

    first = web.to("/voice")[0]
    assert first == {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": rec.sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": CALLER,
        "To": DESK,
        "Caller": CALLER,
        "Called": DESK,
    }
    assert rec.heard == ["Welcome to the desk."]
    assert rec.status == "completed" and rec.direction == "inbound"
    status = web.to("/status")[0]
    assert status["CallStatus"] == "completed"
    assert status["CallDuration"] == str(rec.duration)
    assert emu.requests[0]["url"] == web.url("/voice") and emu.requests[0]["status"] == 200


def test_get_redirect_is_signed_over_the_query_string(emu, web):
    web.routes["/voice"] = twiml('<Redirect method="GET">/next?step=2</Redirect>')
    web.routes["/next"] = twiml("<Say>Step two.</Say>")

    rec = emu.place_inbound_call(from_=CALLER)

    hit = next(h for h in web.hits if h.path == "/next")
    assert hit.method == "GET"
    assert hit.params["step"] == "2" and hit.params["CallStatus"] == "in-progress"
    assert rec.heard == ["Step two."]
    assert rec.events == [("redirect", web.url("/next?step=2"))]


# -- Redirect, errors, fallback ---------------------------------------------


def test_redirect_resolves_relative_urls_against_the_document(emu, web):
    emu.voice_url = web.url("/ivr/start")
    web.routes["/ivr/start"] = twiml("<Redirect>next</Redirect>")
    web.routes["/ivr/next"] = twiml("<Say>Next.</Say>")

    rec = emu.place_inbound_call(from_=CALLER)

    assert rec.heard == ["Next."]


def test_a_failing_voice_url_falls_back_with_error_code_and_url(emu, web):
    web.routes["/voice"] = (500, "boom")
    web.routes["/fallback"] = twiml("<Say>Sorry, try later.</Say>")

    rec = emu.place_inbound_call(from_=CALLER)

    fallback = web.to("/fallback")[0]
    assert (fallback["ErrorCode"], fallback["ErrorUrl"]) == ("11200", web.url("/voice"))
    assert rec.heard == ["Sorry, try later."]
    assert rec.errors == [f"application error: HTTP 500 from {web.url('/voice')}"]


def test_an_unreachable_voice_url_is_error_11205(emu, web):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    emu.voice_url = f"http://127.0.0.1:{closed}/voice"
    web.routes["/fallback"] = twiml("<Say>Fallback.</Say>")

    rec = emu.place_inbound_call(from_=CALLER)

    assert web.to("/fallback")[0]["ErrorCode"] == "11205"
    assert rec.heard == ["Fallback."]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((500, "boom"), "application error: HTTP 500 from"),
        ("not xml", "invalid TwiML from"),
        ("<Other/>", "invalid TwiML"),
    ],
    ids=["http-500", "not-xml", "wrong-root"],
)
def test_without_fallback_the_caller_hears_the_application_error(emu, web, answer, error):
    emu.fallback_url = None
    web.routes["/voice"] = answer

    rec = emu.place_inbound_call(from_=CALLER)

    assert rec.heard == [APP_ERROR_MESSAGE]
    assert rec.errors[0].startswith(error)
    assert rec.status == "completed"


def test_an_action_url_error_is_not_sent_to_the_fallback(emu, web):
    web.routes["/voice"] = menu(numDigits="1")
    web.routes["/choice"] = (500, "boom")

    rec = emu.place_inbound_call(from_=CALLER, keys=["1"])

    assert web.to("/fallback") == []
    assert rec.heard == ["Press a key.", APP_ERROR_MESSAGE]


def test_unknown_verbs_are_application_errors(emu, web):
    web.routes["/voice"] = twiml("<Say>Hi.</Say><Dance/>")

    rec = emu.place_inbound_call(from_=CALLER)

    assert rec.heard == ["Hi.", APP_ERROR_MESSAGE]
    assert "unknown verb <Dance>" in rec.errors[0]


def test_reject_leaves_an_inbound_call_unanswered(emu, web):
    web.routes["/voice"] = twiml('<Reject reason="busy"/>')

    rec = emu.place_inbound_call(from_=CALLER)

    assert rec.status == "busy"
    assert web.to("/status")[0]["CallStatus"] == "busy"


def test_phone_factory_gives_each_call_its_behaviour(emu, web):
    web.routes["/voice"] = twiml(f'<Dial action="/dialed">{AGENT}</Dial>')
    seen: list[str] = []

    def factory(call: CallRecord) -> Phone:
        seen.append(call.direction)
        return Phone(answer="busy")

    emu.phone_factory = factory

    emu.place_inbound_call(from_=CALLER, keys=[])

    assert web.to("/dialed")[0]["DialCallStatus"] == "busy"
    assert "outbound-dial" in seen
