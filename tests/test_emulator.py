"""The Twilio emulator, tested against a tiny signed-webhook app on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests
from flask import Flask, Response, request
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server

from emulator import APP_ERROR_MESSAGE, CallRecord, Phone, TwilioEmulator
from emulator.__main__ import main as cli_main

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "emulator-test-token"
CALLER = "+32470123456"
AGENT = "+32470111111"
CUSTOMER = "+32470999999"
DESK = "+3234603535"

Answer = str | tuple[int, str] | Callable[[dict[str, str]], "str | tuple[int, str]"]


def twiml(*verbs: str) -> str:
    """A TwiML document made of `verbs`."""
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


@dataclass
class Hit:
    """One webhook request the test app received."""

    path: str
    method: str
    params: dict[str, str]


@dataclass
class WebhookApp:
    """Serves TwiML chosen per test, checks every X-Twilio-Signature, logs requests."""

    base_url: str = ""
    routes: dict[str, Answer] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    bad_signatures: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def to(self, path: str) -> list[dict[str, str]]:
        """The params of every request to `path`, in order."""
        return [hit.params for hit in list(self.hits) if hit.path == path]

    def paths(self) -> list[str]:
        return [hit.path for hit in list(self.hits)]

    def reset(self) -> None:
        self.routes.clear()
        self.hits.clear()
        self.bad_signatures.clear()

    def handle(self) -> Response:
        """Validate the signature over the exact URL requested, then answer."""
        url = request.host_url.rstrip("/") + request.environ.get("REQUEST_URI", request.full_path)
        params = request.form.to_dict() if request.method == "POST" else {}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(AUTH_TOKEN).validate(url, params, signature):
            self.bad_signatures.append(url)
            return Response("bad signature", status=403)
        values = params or request.args.to_dict()
        self.hits.append(Hit(request.path, request.method, values))
        answer = self.routes.get(request.path, twiml())
        if callable(answer):
            answer = answer(values)
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        return Response(body, status=status, mimetype="text/xml")


@pytest.fixture(scope="module")
def webhook_server() -> Iterator[WebhookApp]:
    web = WebhookApp()
    flask_app = Flask("webhooks")
    flask_app.add_url_rule("/<path:path>", "any", lambda path: web.handle(), methods=["GET", "POST"])
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    web.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    yield web
    server.shutdown()


@pytest.fixture
def web(webhook_server: WebhookApp) -> WebhookApp:
    webhook_server.reset()
    return webhook_server


@pytest.fixture
def emu(web: WebhookApp) -> Iterator[TwilioEmulator]:
    emulator = TwilioEmulator(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        desk_number=DESK,
        voice_url=web.url("/voice"),
        status_url=web.url("/status"),
        fallback_url=web.url("/fallback"),
    )
    emulator.start()
    yield emulator
    emulator.wait_idle(timeout=5)
    emulator.stop()
    assert web.bad_signatures == []


@pytest.fixture
def rest(emu: TwilioEmulator) -> Client:
    client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=TwilioHttpClient(timeout=5))
    client.api.base_url = emu.base_url
    return client


def child_of(emu: TwilioEmulator, rec: CallRecord) -> list[CallRecord]:
    return [call for call in emu.calls.values() if call.parent_sid == rec.sid]


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


# -- Gather -----------------------------------------------------------------


def menu(**attributes: str) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in attributes.items())
    return twiml(f'<Gather action="/choice"{attrs}><Say>Press a key.</Say></Gather>', "<Say>No input.</Say>")


def test_gather_stops_at_num_digits(emu, web):
    web.routes["/voice"] = menu(numDigits="1")

    emu.place_inbound_call(from_=CALLER, keys=["21"])

    assert web.to("/choice")[0]["Digits"] == "2"


def test_gather_stops_at_finish_on_key(emu, web):
    web.routes["/voice"] = menu()

    rec = emu.place_inbound_call(from_=CALLER, keys=["0042#"])

    choice = web.to("/choice")[0]
    assert (choice["Digits"], choice["FinishedOnKey"]) == ("0042", "#")
    assert rec.events == [("gather", "digits=0042")]


def test_gather_submits_typed_keys_when_the_timeout_ends_it(emu, web):
    web.routes["/voice"] = menu(timeout="3")

    emu.place_inbound_call(from_=CALLER, keys=["123"])

    choice = web.to("/choice")[0]
    assert (choice["Digits"], choice["FinishedOnKey"]) == ("123", "")


@pytest.mark.parametrize("item", ["", "#"], ids=["silence", "finish-key-only"])
def test_gather_without_digits_falls_through_to_the_next_verb(emu, web, item):
    web.routes["/voice"] = menu()

    rec = emu.place_inbound_call(from_=CALLER, keys=[item])

    assert web.to("/choice") == []
    assert rec.heard == ["Press a key.", "No input."]


def test_gather_action_on_empty_result_posts_empty_digits(emu, web):
    web.routes["/voice"] = menu(actionOnEmptyResult="true")
    web.routes["/choice"] = twiml("<Say>Nothing pressed.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=[""])

    assert web.to("/choice")[0]["Digits"] == ""
    assert rec.heard == ["Press a key.", "Nothing pressed."]


def test_gather_action_defaults_to_the_current_document(emu, web):
    def voice(params: dict[str, str]) -> str:
        if "Digits" in params:
            return twiml(f"<Say>You chose {params['Digits']}.</Say>")
        return twiml('<Gather numDigits="1"><Say>Choose.</Say></Gather>')

    web.routes["/voice"] = voice

    rec = emu.place_inbound_call(from_=CALLER, keys=["3"])

    assert [params.get("Digits") for params in web.to("/voice")] == [None, "3"]
    assert rec.heard == ["Choose.", "You chose 3."]


def test_caller_hangs_up_at_the_next_gather_when_keys_run_out(emu, web):
    web.routes["/voice"] = menu()

    rec = emu.place_inbound_call(from_=CALLER, keys=[], hangup_when_done=True)

    assert web.to("/choice") == []
    assert rec.heard == ["Press a key."]
    assert rec.events == [("caller-hangup", "")]
    assert rec.status == "completed"


def test_a_silent_caller_in_an_endless_menu_hits_the_loop_limit(emu, web):
    web.routes["/voice"] = twiml('<Gather numDigits="1"/>', "<Redirect>/voice</Redirect>")

    rec = emu.place_inbound_call(from_=CALLER)

    assert len(web.to("/voice")) == 200
    assert rec.errors == ["loop limit"]
    assert APP_ERROR_MESSAGE not in rec.heard


# -- Record -----------------------------------------------------------------


RECORD = (
    '<Record action="/recorded" maxLength="60" recordingStatusCallback="/recording-status"'
    ' transcribeCallback="/transcribed"/>'
)


def test_record_posts_the_action_then_recording_and_transcription_callbacks(emu, web):
    web.routes["/voice"] = twiml("<Say>Describe the problem.</Say>", RECORD)
    web.routes["/recorded"] = twiml("<Say>Thanks.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=["printer broken#"])
    assert emu.wait_idle(timeout=5)

    assert rec.heard == ["Describe the problem.", "[beep]", "Thanks."]
    recorded = web.to("/recorded")[0]
    assert recorded["Digits"] == "#"
    assert recorded["RecordingSid"].startswith("RE")
    assert (
        recorded["RecordingUrl"]
        == f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recorded['RecordingSid']}"
    )
    status = web.to("/recording-status")[0]
    assert status["RecordingStatus"] == "completed" and status["RecordingSource"] == "RecordVerb"
    assert (
        status["RecordingSid"] == recorded["RecordingSid"]
        and status["RecordingDuration"] == recorded["RecordingDuration"]
    )
    transcription = web.to("/transcribed")[0]
    assert transcription["TranscriptionText"] == "printer broken"
    assert transcription["TranscriptionStatus"] == "completed"
    assert transcription["RecordingSid"] == recorded["RecordingSid"]
    paths = web.paths()
    assert paths.index("/recorded") < paths.index("/recording-status") < paths.index("/transcribed")
    audio = requests.get(recorded["RecordingUrl"], timeout=5)
    assert audio.status_code == 200 and audio.content.startswith(b"RIFF")


def test_a_recording_is_deleted_through_the_rest_api_by_its_account_only(emu, rest):
    recording = emu.new_recording(3)
    json_url = f"{emu.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording.sid}.json"
    assert requests.delete(json_url, timeout=5).status_code == 401  # media is public, deleting is not
    assert requests.get(recording.url, timeout=5).status_code == 200
    assert rest.recordings(recording.sid).delete() is True
    assert requests.get(recording.url, timeout=5).status_code == 404
    with pytest.raises(TwilioRestException) as again:
        rest.recordings(recording.sid).delete()
    assert again.value.status == 404 and again.value.code == 20404


def test_an_empty_recording_skips_the_action_and_continues(emu, web):
    web.routes["/voice"] = twiml(RECORD, "<Say>We heard nothing.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=[""])
    emu.wait_idle(timeout=5)

    assert web.to("/recorded") == [] and web.to("/recording-status") == []
    assert rec.heard == ["[beep]", "We heard nothing."]


def test_hanging_up_during_a_recording_posts_digits_hangup(emu, web):
    web.routes["/voice"] = twiml(RECORD, "<Say>Unreachable.</Say>")

    rec = emu.place_inbound_call(from_=CALLER, keys=[], hangup_when_done=True)
    emu.wait_idle(timeout=5)

    recorded = web.to("/recorded")[0]
    assert (recorded["Digits"], recorded["CallStatus"]) == ("hangup", "completed")
    assert web.to("/recording-status")[0]["RecordingStatus"] == "completed"
    assert "Unreachable." not in rec.heard


# -- Dial -------------------------------------------------------------------


def dial_agent(**dial_attributes: str) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in dial_attributes.items())
    number = (
        f'<Number url="/whisper" statusCallback="/leg-status"'
        f' statusCallbackEvent="initiated ringing answered completed">{AGENT}</Number>'
    )
    return twiml(f'<Dial action="/dialed" callerId="{DESK}"{attrs}>{number}</Dial>')


def whisper_routes(web: WebhookApp) -> None:
    web.routes["/whisper"] = twiml(
        '<Gather numDigits="1" action="/accept"><Say>Customer waiting, press 1.</Say></Gather>'
    )
    web.routes["/accept"] = lambda p: twiml("<Say>Connecting.</Say>") if p["Digits"] == "1" else twiml("<Hangup/>")
    web.routes["/dialed"] = twiml("<Say>Goodbye.</Say>")


def test_dial_bridges_when_the_whisper_runs_out_of_verbs(emu, web):
    web.routes["/voice"] = dial_agent()
    whisper_routes(web)
    emu.set_phone(AGENT, Phone(keys=["1"], talk_seconds=42))

    rec = emu.place_inbound_call(from_=CALLER)

    (leg,) = child_of(emu, rec)
    assert (leg.direction, leg.from_, leg.to, leg.status) == ("outbound-dial", DESK, AGENT, "completed")
    assert leg.heard == ["Customer waiting, press 1.", "Connecting."]
    assert web.to("/whisper")[0]["ParentCallSid"] == rec.sid
    dialed = web.to("/dialed")[0]
    assert dialed["DialCallStatus"] == "completed" and dialed["DialBridged"] == "true"
    assert dialed["DialCallSid"] == leg.sid
    assert int(dialed["DialCallDuration"]) == leg.duration >= 42
    legs = web.to("/leg-status")
    assert [p["CallStatus"] for p in legs] == ["initiated", "ringing", "in-progress", "completed"]
    assert [p["SequenceNumber"] for p in legs] == ["0", "1", "2", "3"]
    assert legs[-1]["CallDuration"] == str(leg.duration)
    assert ("bridged", AGENT) in rec.events and rec.heard == ["Goodbye."]


def test_dial_whisper_that_hangs_up_reports_completed_but_not_bridged(emu, web):
    web.routes["/voice"] = dial_agent()
    whisper_routes(web)
    emu.set_phone(AGENT, Phone(keys=["9"]))

    rec = emu.place_inbound_call(from_=CALLER)

    (leg,) = child_of(emu, rec)
    dialed = web.to("/dialed")[0]
    assert (dialed["DialCallStatus"], dialed["DialBridged"]) == ("completed", "false")
    assert leg.events[-1] == ("hangup", "")
    assert ("bridged", AGENT) not in rec.events


@pytest.mark.parametrize("answer", ["no-answer", "busy", "failed"])
def test_dial_reports_a_callee_that_does_not_answer(emu, web, answer):
    web.routes["/voice"] = dial_agent(timeout="20")
    whisper_routes(web)
    emu.set_phone(AGENT, Phone(answer=answer))

    rec = emu.place_inbound_call(from_=CALLER)

    (leg,) = child_of(emu, rec)
    dialed = web.to("/dialed")[0]
    assert dialed["DialCallStatus"] == answer and dialed["DialBridged"] == "false"
    assert "DialCallDuration" not in dialed
    assert leg.status == answer and web.to("/whisper") == []
    assert web.to("/leg-status")[-1]["CallStatus"] == answer


def test_dial_rings_every_number_and_the_first_to_answer_wins(emu, web):
    web.routes["/voice"] = twiml(f"<Dial><Number>{AGENT}</Number><Number>{CUSTOMER}</Number></Dial><Say>After.</Say>")
    emu.set_phone(AGENT, Phone(answer="no-answer"))
    emu.set_phone(CUSTOMER, Phone(talk_seconds=7))

    rec = emu.place_inbound_call(from_=CALLER)

    statuses = {leg.to: leg.status for leg in child_of(emu, rec)}
    assert statuses == {AGENT: "canceled", CUSTOMER: "completed"}
    assert rec.heard == ["After."]  # no action: the next verb runs
    assert ("dial-status", "completed") in rec.events


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


# -- control API and CLI ----------------------------------------------------


def test_control_api_sets_phones_and_places_calls(emu, web):
    web.routes["/voice"] = twiml(f'<Dial action="/dialed">{AGENT}</Dial>')
    control = f"{emu.base_url}/_emulator"

    assert requests.put(f"{control}/phones/{AGENT}", json={"answer": "no-answer"}, timeout=5).status_code == 200
    assert requests.put(f"{control}/phones/{AGENT}", json={"mood": "grumpy"}, timeout=5).status_code == 400
    placed = requests.post(f"{control}/calls", json={"from": CALLER, "keys": []}, timeout=10).json()

    assert placed["status"] == "completed" and placed["errors"] == []
    assert web.to("/dialed")[0]["DialCallStatus"] == "no-answer"
    listed = requests.get(f"{control}/calls", timeout=5).json()
    assert {call["sid"] for call in listed} == set(emu.calls)
    assert requests.get(f"{control}/messages", timeout=5).json() == []


def test_cli_call_prints_what_the_caller_heard(emu, web, capsys):
    web.routes["/voice"] = menu(numDigits="1")
    web.routes["/choice"] = lambda p: twiml(f"<Say>Option {p['Digits']}.</Say>")

    exit_code = cli_main(["call", "--url", emu.base_url, "--from", CALLER, "2"])

    out = capsys.readouterr().out
    assert exit_code == 0
    assert "heard: Press a key." in out and "heard: Option 2." in out


# -- interactive phones (the phone lab) -------------------------------------


def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> object:
    """Poll until `predicate` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def interactive(emu: TwilioEmulator, number: str):
    emu.set_phone(number, Phone(interactive=True))
    return emu.handset(number)


def test_a_handset_caller_presses_keys_while_the_menu_plays(emu, web):
    web.routes["/voice"] = twiml(
        "<Say>Welcome.</Say>",
        '<Gather numDigits="1" action="/choice"><Say>Press a key, any key, any key at all.</Say></Gather>',
    )
    web.routes["/choice"] = lambda p: twiml(f"<Say>Option {p['Digits']}.</Say>")
    caller = interactive(emu, CALLER)

    rec = emu.call_from_handset(CALLER)
    assert wait_for(lambda: caller.state()["status"] == "in-call")
    assert caller.press("9") is False  # nothing listens during the welcome: the key is lost
    wait_for(lambda: caller.state()["listening"] == "keys")
    started = time.monotonic()
    assert caller.press("2") is True  # barge-in: the menu prompt is cut short
    emu.wait_idle()

    assert web.to("/choice")[0]["Digits"] == "2"
    assert rec.heard == ["Welcome.", "Press a key, any key, any key at all.", "Option 2."]
    assert time.monotonic() - started < 3
    assert caller.state()["status"] == "idle" and caller.state()["call"]["status"] == "completed"
    assert web.to("/status")[0]["CallStatus"] == "completed"


def test_a_silent_handset_caller_lets_the_gather_time_out(emu, web):
    web.routes["/voice"] = menu(timeout="1", numDigits="1")
    interactive(emu, CALLER)

    rec = emu.call_from_handset(CALLER)
    emu.wait_idle()

    assert rec.heard == ["Press a key.", "No input."] and web.to("/choice") == []


def test_a_handset_caller_speaks_into_a_recording_and_ends_it_with_the_hash_key(emu, web):
    web.routes["/voice"] = twiml(
        '<Record action="/recorded" finishOnKey="#" timeout="5" transcribeCallback="/transcribed"/>'
    )
    caller = interactive(emu, CALLER)

    emu.call_from_handset(CALLER)
    wait_for(lambda: caller.state()["listening"] == "record")
    assert caller.speak("printer #3 on fire") is True
    assert caller.press("#") is True
    emu.wait_idle()

    assert web.to("/recorded")[0]["Digits"] == "#"
    assert web.to("/transcribed")[0]["TranscriptionText"] == "printer 3 on fire"


def test_hanging_up_a_handset_mid_recording_still_posts_the_recording(emu, web):
    web.routes["/voice"] = twiml('<Record action="/recorded" finishOnKey="#"/>')
    caller = interactive(emu, CALLER)

    rec = emu.call_from_handset(CALLER)
    wait_for(lambda: caller.state()["listening"] == "record")
    assert caller.hang_up() is True
    emu.wait_idle()

    assert web.to("/recorded")[0]["Digits"] == "hangup" and rec.status == "completed"


def test_a_busy_handset_cannot_place_a_second_call(emu, web):
    web.routes["/voice"] = menu(timeout="2")
    interactive(emu, CALLER)
    assert emu.call_from_handset(CALLER) is not None
    assert emu.call_from_handset(CALLER) is None
    emu.handset(CALLER).hang_up()


def test_a_rest_call_rings_the_handset_until_its_person_answers_and_keys_reach_the_whisper(emu, web, rest):
    whisper_routes(web)
    agent = interactive(emu, AGENT)

    call = rest.calls.create(to=AGENT, from_=DESK, url=web.url("/whisper"), status_callback=web.url("/progress"))
    wait_for(lambda: agent.state()["status"] == "ringing")
    assert agent.state()["ringing_from"] == DESK
    time.sleep(0.3)
    assert emu.calls[call.sid].status == "ringing"
    assert agent.answer() is True
    wait_for(lambda: agent.state()["listening"] == "keys")
    agent.press("1")
    emu.wait_idle()

    assert emu.calls[call.sid].heard == ["Customer waiting, press 1.", "Connecting."]
    assert web.to("/progress")[-1]["CallStatus"] == "completed"


@pytest.mark.parametrize(("person", "status"), [("decline", "busy"), ("nothing", "no-answer")])
def test_a_handset_that_is_not_answered_ends_the_rest_call(emu, web, rest, person, status):
    agent = interactive(emu, AGENT)

    call = rest.calls.create(to=AGENT, from_=DESK, url=web.url("/whisper"), timeout=1)
    wait_for(lambda: agent.state()["status"] == "ringing")
    if person == "decline":
        agent.decline()
    emu.wait_idle()

    assert emu.calls[call.sid].status == status and web.to("/whisper") == []
    assert agent.state()["status"] == "idle"


def test_a_dialled_handset_talks_until_its_person_hangs_up(emu, web):
    web.routes["/voice"] = twiml(f'<Dial action="/dialed" callerId="{DESK}"><Number>{CUSTOMER}</Number></Dial>')
    web.routes["/dialed"] = twiml("<Say>Goodbye.</Say>")
    customer = interactive(emu, CUSTOMER)

    emu.spawn(lambda: emu.place_inbound_call(from_=CALLER, keys=[]), "caller")
    wait_for(lambda: customer.state()["status"] == "ringing")
    customer.answer()
    wait_for(lambda: customer.state()["talking_with"] == CALLER)
    time.sleep(1.2)
    customer.hang_up()
    emu.wait_idle()

    dialed = web.to("/dialed")[0]
    assert dialed["DialCallStatus"] == "completed" and int(dialed["DialCallDuration"]) >= 1
    assert customer.state()["talking_with"] is None and customer.state()["status"] == "idle"


def test_control_api_drives_handsets(emu, web):
    web.routes["/voice"] = menu(numDigits="1", timeout="5")
    web.routes["/choice"] = lambda p: twiml(f"<Say>Option {p['Digits']}.</Say>")
    control = f"{emu.base_url}/_emulator"
    assert requests.get(f"{control}/handsets/{CALLER}", timeout=5).status_code == 404
    requests.put(f"{control}/phones/{CALLER}", json={"interactive": True}, timeout=5)

    assert requests.post(f"{control}/handsets/{CALLER}/answer", timeout=5).status_code == 409
    placed = requests.post(f"{control}/handsets/{CALLER}/call", json={}, timeout=5)
    assert placed.status_code == 201
    wait_for(lambda: requests.get(f"{control}/handsets/{CALLER}", timeout=5).json()["listening"] == "keys")
    assert requests.post(f"{control}/handsets/{CALLER}/keys", json={"keys": "x"}, timeout=5).status_code == 400
    pressed = requests.post(f"{control}/handsets/{CALLER}/keys", json={"keys": "3"}, timeout=5)
    assert pressed.json() == {"accepted": True}
    emu.wait_idle()

    listed = requests.get(f"{control}/handsets", timeout=5).json()
    assert listed[CALLER]["call"]["sid"] == placed.json()["sid"]
    assert listed[CALLER]["call"]["heard"] == ["Press a key.", "Option 3."]


def test_phones_a_browser_took_are_given_back_when_it_stops_looking(emu, web):
    """The phone lab's phones go back to answering by themselves once its page is closed."""
    web.routes["/voice"] = twiml(f'<Dial action="/dialed" timeout="1">{AGENT}</Dial>')
    control = f"{emu.base_url}/_emulator"
    emu.handset_lease_seconds = 0.5
    emu.set_phone(CUSTOMER, Phone(interactive=True))  # set from Python (tests): no lease
    assert requests.put(f"{control}/phones/{AGENT}", json={"interactive": True}, timeout=5).status_code == 200
    for _ in range(4):  # the page polls: the lease is renewed
        time.sleep(0.25)
        assert set(requests.get(f"{control}/handsets", timeout=5).json()) == {AGENT, CUSTOMER}
    assert emu.release_idle_handsets() == []

    time.sleep(0.7)  # the page is gone
    placed = requests.post(f"{control}/calls", json={"from": CALLER, "keys": []}, timeout=10).json()

    assert placed["status"] == "completed"
    assert web.to("/dialed")[0]["DialCallStatus"] == "completed"  # answered by the automatic phone
    assert set(emu.handsets) == {CUSTOMER}
