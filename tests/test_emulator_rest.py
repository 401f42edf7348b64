"""The emulator's REST API through Twilio's own client: calls, updates, messages, credentials and failures."""

from __future__ import annotations

import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from emulator import Phone, TwilioEmulator
from tests.emulator_rig import (
    ACCOUNT_SID,
    AGENT,
    AUTH_TOKEN,
    CALLER,
    CUSTOMER,
    DESK,
    twiml,
)

# -- REST -------------------------------------------------------------------


def test_rest_call_rings_the_callee_walks_its_twiml_and_reports_progress(emu, web, rest):
    web.routes["/agent"] = twiml('<Gather numDigits="1" action="/agent-accept"><Say>Callback ready.</Say></Gather>')
    web.routes["/agent-accept"] = twiml(f'<Dial action="/dialed" callerId="{DESK}">{CUSTOMER}</Dial>')
    web.routes["/dialed"] = twiml("<Hangup/>")
    emu.set_phone(AGENT, Phone(keys=["1"]))
    emu.set_phone(CUSTOMER, Phone(talk_seconds=42))

    call = rest.calls.create(
        to=AGENT,
        from_=DESK,
        url=web.url("/agent"),
        status_callback=web.url("/call-status"),
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    assert call.status == "queued" and call.direction == "outbound-api"
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert emu.wait_idle(timeout=5)

    progress = web.to("/call-status")
    assert [p["CallStatus"] for p in progress] == ["initiated", "ringing", "in-progress", "completed"]
    assert [p["SequenceNumber"] for p in progress] == ["0", "1", "2", "3"]
    assert {p["CallbackSource"] for p in progress} == {"call-progress-events"}
    assert web.to("/agent")[0]["CallStatus"] == "in-progress"
    dialed = web.to("/dialed")[0]
    assert (dialed["DialCallStatus"], dialed["DialCallDuration"]) == ("completed", "42")
    fetched = rest.calls(call.sid).fetch()
    assert fetched.status == "completed" and fetched.duration == progress[-1]["CallDuration"]
    assert emu.calls[call.sid].heard == ["Callback ready."]


def test_rest_call_to_a_busy_phone_ends_busy_without_fetching_the_url(emu, web, rest):
    emu.set_phone(CUSTOMER, Phone(answer="busy"))

    call = rest.calls.create(to=CUSTOMER, from_=DESK, url=web.url("/agent"), status_callback=web.url("/call-status"))
    emu.wait_idle(timeout=5)

    assert web.to("/agent") == []
    assert [p["CallStatus"] for p in web.to("/call-status")] == ["busy"]
    assert rest.calls(call.sid).fetch().status == "busy"


def test_rest_update_redirects_a_bridged_call(emu, web, rest):
    web.routes["/agent"] = twiml(f'<Dial action="/dialed">{CUSTOMER}</Dial><Say>Not reached.</Say>')
    emu.set_phone(CUSTOMER, Phone(talk_seconds=10, real_time=True))

    call = rest.calls.create(to=AGENT, from_=DESK, url=web.url("/agent"))
    deadline = time.monotonic() + 5
    while ("bridged", CUSTOMER) not in emu.calls[call.sid].events and time.monotonic() < deadline:
        time.sleep(0.02)
    rest.calls(call.sid).update(twiml=twiml("<Say>Urgent transfer.</Say>"))
    assert emu.wait_idle(timeout=5)

    rec = emu.calls[call.sid]
    assert rec.heard == ["Urgent transfer."]
    assert ("rest-redirect", "twiml") in rec.events
    assert len(web.to("/dialed")) == 1  # requested, but its answer is ignored
    assert rec.duration < 10


def test_rest_update_cancels_a_ringing_call(emu, web, rest):
    emu.set_phone(CUSTOMER, Phone(ring_seconds=10))

    call = rest.calls.create(to=CUSTOMER, from_=DESK, url=web.url("/agent"), status_callback=web.url("/call-status"))
    rest.calls(call.sid).update(status="canceled")
    assert emu.wait_idle(timeout=5)

    assert emu.calls[call.sid].status == "canceled"
    assert web.to("/agent") == []
    assert web.to("/call-status")[0]["CallStatus"] == "canceled"


def test_messages_create_through_the_real_client(emu, web, rest):
    message = rest.messages.create(to=CALLER, from_=DESK, body="Ticket T-1 created.", status_callback=web.url("/sms"))

    assert message.sid.startswith("SM") and message.status == "queued"
    assert emu.wait_idle(timeout=5)
    [stored] = emu.messages
    assert {key: value for key, value in stored.items() if key != "date_created"} == {
        "sid": message.sid,
        "to": CALLER,
        "from": DESK,
        "body": "Ticket T-1 created.",
        "status": "delivered",
    }
    assert [p["MessageStatus"] for p in web.to("/sms")] == ["sent", "delivered"]
    [listed] = rest.messages.list()
    assert listed.body == "Ticket T-1 created." and listed.date_created == message.date_created


def test_messages_list_newest_first_a_page_at_a_time(emu, rest):
    for n in range(5):
        rest.messages.create(to=CALLER, from_=DESK, body=f"message {n}")
    rest.messages.create(to=CUSTOMER, from_=DESK, body="to somebody else")

    assert [m.body for m in rest.messages.list(to=CALLER, limit=3)] == ["message 4", "message 3", "message 2"]
    first = rest.messages.page(to=CALLER, page_size=2)
    second = first.next_page()
    assert [m.body for m in first] == ["message 4", "message 3"]
    assert [m.body for m in second] == ["message 2", "message 1"]
    assert [m.body for m in second.next_page()] == ["message 0"]
    assert [m.body for m in rest.messages.stream(to=CALLER, page_size=2)] == [f"message {n}" for n in range(4, -1, -1)]


def test_messages_to_an_invalid_number_are_rejected(rest):
    with pytest.raises(TwilioRestException) as raised:
        rest.messages.create(to="not-a-number", from_=DESK, body="hi")

    assert (raised.value.status, raised.value.code) == (400, 21211)


def test_calls_create_without_url_is_rejected(rest):
    with pytest.raises(TwilioRestException) as raised:
        rest.calls.create(to=CUSTOMER, from_=DESK)

    assert (raised.value.status, raised.value.code) == (400, 21205)


def test_wrong_credentials_get_twilios_401(emu):
    client = Client(ACCOUNT_SID, "wrong-token")
    client.api.base_url = emu.base_url
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=CALLER, from_=DESK, body="hi")

    assert (raised.value.status, raised.value.code) == (401, 20003)
    raw = requests.get(f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json", timeout=5)
    assert raw.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert emu.messages == []


def test_fail_rest_500_raises_twilio_rest_exception(emu, rest):
    emu.fail_rest = 500

    with pytest.raises(TwilioRestException) as raised:
        rest.calls.create(to=CUSTOMER, from_=DESK, url="http://127.0.0.1/x")

    assert raised.value.status == 500
    assert emu.calls == {}


def impatient_client(emu: TwilioEmulator) -> Client:
    """A REST client that gives up on an answer after 0.3 s."""
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=0.3))
    client.api.base_url = emu.base_url
    return client


def test_fail_rest_timeout_outlasts_the_client_timeout_and_stops_promptly(emu):
    emu.fail_rest = "timeout"
    client = impatient_client(emu)

    with pytest.raises(requests.Timeout):
        client.messages.create(to=CALLER, from_=DESK, body="hi")

    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    assert emu.messages == []  # nothing was done


def test_fail_rest_late_carries_the_request_out_and_answers_after_the_client_gave_up(emu):
    emu.fail_rest = "late"
    client = impatient_client(emu)

    with pytest.raises(requests.Timeout):
        client.messages.create(to=CALLER, from_=DESK, body="hi")

    [message] = emu.messages
    assert (message["to"], message["body"]) == (CALLER, "hi")
    assert [m.body for m in client.messages.list(to=CALLER)] == ["hi"]  # reading is not held back
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
