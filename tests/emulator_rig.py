"""The rig the emulator's own tests run on: a tiny signed-webhook app on loopback that
serves TwiML chosen per test and records every request (fixtures `web`, `emu`, `rest` in
conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Response, request
from twilio.request_validator import RequestValidator

from emulator import CallRecord, Phone, TwilioEmulator

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


def child_of(emu: TwilioEmulator, rec: CallRecord) -> list[CallRecord]:
    return [call for call in emu.calls.values() if call.parent_sid == rec.sid]


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


def menu(**attributes: str) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in attributes.items())
    return twiml(f'<Gather action="/choice"{attrs}><Say>Press a key.</Say></Gather>', "<Say>No input.</Say>")


def whisper_routes(web: WebhookApp) -> None:
    web.routes["/whisper"] = twiml(
        '<Gather numDigits="1" action="/accept"><Say>Customer waiting, press 1.</Say></Gather>'
    )
    web.routes["/accept"] = lambda p: twiml("<Say>Connecting.</Say>") if p["Digits"] == "1" else twiml("<Hangup/>")
    web.routes["/dialed"] = twiml("<Say>Goodbye.</Say>")


def dial_agent(**dial_attributes: str) -> str:
    attrs = "".join(f' {name}="{value}"' for name, value in dial_attributes.items())
    number = (
        f'<Number url="/whisper" statusCallback="/leg-status"'
        f' statusCallbackEvent="initiated ringing answered completed">{AGENT}</Number>'
    )
    return twiml(f'<Dial action="/dialed" callerId="{DESK}"{attrs}>{number}</Dial>')
