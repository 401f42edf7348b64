"""The HTTP side: Twilio's REST API (2010-04-01) and the emulator's control API."""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import wave
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from emulator.calls import OutboundRequest
from emulator.phones import Phone
from emulator.progress import parse_events
from emulator.records import API_VERSION, CallRecord, RedirectTarget, rfc2822
from emulator.twiml import DTMF_KEYS

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from emulator.core import TwilioEmulator

ACCOUNT = f"/{API_VERSION}/Accounts/<account_sid>"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
PHONE_NUMBER = re.compile(r"^\+?[1-9]\d{5,14}$")
POLL_SECONDS = 0.05
PHONE_FIELDS = frozenset(field.name for field in dataclasses.fields(Phone))


def twilio_error(status: int, code: int, message: str) -> tuple[Response, int]:
    """An error answer shaped like Twilio's (twilio-python reads code/message)."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


def page(key: str, items: list[dict[str, object]], uri: str) -> dict[str, object]:
    """One page (``PageSize``, default 50, and ``Page`` of the request) in Twilio's 2010-04-01 paging format."""
    size = min(max(request.args.get("PageSize", 50, type=int) or 50, 1), 1000)
    number = max(request.args.get("Page", 0, type=int) or 0, 0)
    start = number * size
    shown = items[start : start + size]
    filters = [(name, value) for name, value in request.args.items(multi=True) if name not in ("PageSize", "Page")]

    def page_uri(n: int) -> str:
        return f"{uri}?{urlencode([('PageSize', size), ('Page', n), *filters])}"

    return {
        key: shown,
        "start": start,
        "end": start + max(len(shown) - 1, 0),
        "page": number,
        "page_size": size,
        "first_page_uri": page_uri(0),
        "previous_page_uri": page_uri(number - 1) if number else None,
        "next_page_uri": page_uri(number + 1) if start + size < len(items) else None,
        "uri": page_uri(number),
    }


def silent_wav(seconds: int = 1) -> bytes:
    """A short silent 8 kHz WAV: what every emulated recording sounds like."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000 * seconds)
    return buffer.getvalue()


class RestApi:
    """Flask routes for the REST API (Calls, Messages, Recordings) and /_emulator."""

    def __init__(self, emu: TwilioEmulator) -> None:
        self.emu = emu
        self.app = Flask("emulator")
        self.app.before_request(self.guard)
        self.app.after_request(self.answer_late)
        rules = [
            (f"{ACCOUNT}.json", self.fetch_account, ["GET"]),
            (f"{ACCOUNT}/IncomingPhoneNumbers.json", self.list_incoming_numbers, ["GET"]),
            (f"{ACCOUNT}/Calls.json", self.create_call, ["POST"]),
            (f"{ACCOUNT}/Calls.json", self.list_calls, ["GET"]),
            (f"{ACCOUNT}/Calls/<sid>.json", self.fetch_call, ["GET"]),
            (f"{ACCOUNT}/Calls/<sid>.json", self.update_call, ["POST"]),
            (f"{ACCOUNT}/Messages.json", self.create_message, ["POST"]),
            (f"{ACCOUNT}/Messages.json", self.list_messages, ["GET"]),
            (f"{ACCOUNT}/Messages/<sid>.json", self.fetch_message, ["GET"]),
            (f"{ACCOUNT}/Recordings/<sid>.json", self.delete_recording, ["DELETE"]),
            (f"{ACCOUNT}/Recordings/<name>", self.recording_audio, ["GET"]),
            ("/_emulator/calls", self.control_place_call, ["POST"]),
            ("/_emulator/calls", self.control_list_calls, ["GET"]),
            ("/_emulator/phones", self.control_list_phones, ["GET"]),
            ("/_emulator/phones/<path:number>", self.control_set_phone, ["PUT"]),
            ("/_emulator/messages", self.control_list_messages, ["GET"]),
            ("/_emulator/requests", self.control_list_requests, ["GET"]),
            ("/_emulator/handsets", self.control_list_handsets, ["GET"]),
            ("/_emulator/handsets/<number>", self.control_handset, ["GET"]),
            ("/_emulator/handsets/<number>/<action>", self.control_handset_action, ["POST"]),
        ]
        for rule, view, methods in rules:
            self.app.add_url_rule(rule, view.__name__, view, methods=methods)

    # -- access -------------------------------------------------------------

    def guard(self) -> tuple[Response, int] | None:
        """Loopback-only control API; Basic auth and fault injection for REST."""
        path = request.path
        if path.startswith("/_emulator"):
            if request.remote_addr not in LOOPBACK:
                return jsonify({"error": "the control API is loopback only"}), 403
            return None
        if "/Recordings/" in path and request.method == "GET":
            # Recording media is public, like Twilio's default; deleting one is not.
            return None
        if not self.authorized():
            return twilio_error(401, 20003, "Authenticate")
        account = (request.view_args or {}).get("account_sid")
        if account is not None and account != self.emu.account_sid:
            return twilio_error(404, 20404, f"The requested resource {path} was not found")
        return self.injected_fault()

    def authorized(self) -> bool:
        """HTTP Basic auth with the account SID (or an SK API key) and auth token."""
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False
        user_ok = auth.username == self.emu.account_sid or (auth.username or "").startswith("SK")
        return user_ok and auth.password == self.emu.auth_token

    def injected_fault(self) -> tuple[Response, int] | None:
        """Apply emu.fail_rest: a 500, or an answer held past the client timeout."""
        fault = self.emu.fail_rest
        if fault is None:
            return None
        if fault == "late":
            return None  # carried out; answer_late holds the answer back
        if fault == "timeout":
            self.emu.hang_rest_request()
        return twilio_error(500, 20500, "An internal server error has occurred")

    def answer_late(self, response: Response) -> Response:
        """fail_rest="late": the request was carried out, its answer comes after the client gave up."""
        if self.emu.fail_rest == "late" and request.method == "POST" and not request.path.startswith("/_emulator"):
            self.emu.hang_rest_request()
        return response

    # -- calls ------------------------------------------------------------------

    def create_call(self, account_sid: str) -> tuple[Response, int]:
        """Calls.create: answer 201 with the queued call, then place it."""
        form = request.form
        to, from_ = form.get("To", "").strip(), form.get("From", "").strip()
        url, twiml = form.get("Url", "").strip(), form.get("Twiml")
        if not to:
            return twilio_error(400, 21201, "No 'To' number is specified")
        if not from_:
            return twilio_error(400, 21213, "No 'From' number is specified")
        if not PHONE_NUMBER.match(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not url and not twiml:
            return twilio_error(400, 21205, "Url parameter is required.")
        if url and not url.startswith(("http://", "https://")):
            return twilio_error(400, 21205, f"Url is not a valid URL: {url}")
        try:
            timeout = int(form.get("Timeout", "60"))
        except ValueError:
            return twilio_error(400, 21216, "Timeout must be an integer")
        outbound = OutboundRequest(
            url=url,
            method=form.get("Method", "POST").upper(),
            twiml=twiml,
            fallback_url=form.get("FallbackUrl") or None,
            fallback_method=form.get("FallbackMethod", "POST").upper(),
            status_callback=form.get("StatusCallback") or None,
            status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
            status_events=parse_events(form.getlist("StatusCallbackEvent")),
            timeout=timeout,
            machine_detection=form.get("MachineDetection") or None,
        )
        rec = self.emu.new_call("outbound-api", from_=from_, to=to)
        body = rec.to_twilio_json()
        self.emu.start_outbound_call(rec, outbound)
        return jsonify(body), 201

    def list_calls(self, account_sid: str) -> Response:
        """Calls.list, with the To/From/Status/ParentCallSid filters."""
        filters = {
            "to": request.args.get("To"),
            "from_": request.args.get("From"),
            "status": request.args.get("Status"),
            "parent_sid": request.args.get("ParentCallSid"),
        }
        calls = [
            rec.to_twilio_json()
            for rec in list(self.emu.calls.values())
            if all(value is None or getattr(rec, name) == value for name, value in filters.items())
        ]
        return jsonify(page("calls", calls, request.path))

    def fetch_call(self, account_sid: str, sid: str) -> tuple[Response, int]:
        """calls(sid).fetch()."""
        rec = self.emu.calls.get(sid)
        if rec is None:
            return self.not_found()
        return jsonify(rec.to_twilio_json()), 200

    def update_call(self, account_sid: str, sid: str) -> tuple[Response, int]:
        """calls(sid).update(): hang up (Status) or redirect (Url/Twiml) a live call."""
        rec = self.emu.calls.get(sid)
        if rec is None:
            return self.not_found()
        form = request.form
        status = form.get("Status")
        if status is not None:
            return self.change_status(rec, status)
        url, twiml = form.get("Url"), form.get("Twiml")
        if url or twiml:
            if not rec.is_live:
                return twilio_error(400, 21220, "Call is not in-progress. Cannot redirect.")
            method = form.get("Method", "POST").upper()
            rec.control.redirect(RedirectTarget(url or "", method, twiml))
        return jsonify(rec.to_twilio_json()), 200

    def change_status(self, rec: CallRecord, status: str) -> tuple[Response, int]:
        """Status=completed hangs up; Status=canceled only stops a call not yet answered."""
        if status not in ("completed", "canceled"):
            return twilio_error(400, 20001, f"Invalid Status: {status}")
        if rec.status in ("queued", "ringing"):
            rec.control.hang_up("canceled")
        elif rec.status == "in-progress" and status == "completed":
            rec.control.hang_up("completed")
        return jsonify(rec.to_twilio_json()), 200

    def not_found(self) -> tuple[Response, int]:
        """Twilio's 404 answer."""
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")

    # -- the account and its number ---------------------------------------

    def fetch_account(self, account_sid: str) -> Response:
        """accounts(sid).fetch(): an active full account."""
        uri = f"/{API_VERSION}/Accounts/{account_sid}"
        return jsonify(
            {
                "sid": account_sid,
                "owner_account_sid": account_sid,
                "friendly_name": "Callback Desk emulator",
                "status": "active",
                "type": "Full",
                "auth_token": self.emu.auth_token,
                "date_created": rfc2822(self.emu.started_at),
                "date_updated": rfc2822(self.emu.started_at),
                "uri": f"{uri}.json",
                "subresource_uris": {
                    "calls": f"{uri}/Calls.json",
                    "messages": f"{uri}/Messages.json",
                    "incoming_phone_numbers": f"{uri}/IncomingPhoneNumbers.json",
                },
            }
        )

    def list_incoming_numbers(self, account_sid: str) -> Response:
        """IncomingPhoneNumbers.list: the desk number, with the webhooks the emulator calls, PhoneNumber filter."""
        wanted = request.args.get("PhoneNumber")
        numbers = [self.incoming_number_json()]
        if wanted is not None:
            numbers = [number for number in numbers if number["phone_number"] == wanted.strip()]
        return jsonify(page("incoming_phone_numbers", numbers, request.path))

    def incoming_number_json(self) -> dict[str, object]:
        emu = self.emu
        sid = "PN" + emu.account_sid[2:]
        created = rfc2822(emu.started_at)
        return {
            "sid": sid,
            "account_sid": emu.account_sid,
            "api_version": API_VERSION,
            "friendly_name": emu.desk_number,
            "phone_number": emu.desk_number,
            "voice_url": emu.voice_url,
            "voice_method": "POST",
            "voice_fallback_url": emu.fallback_url,
            "voice_fallback_method": "POST",
            "status_callback": emu.status_url,
            "status_callback_method": "POST",
            "voice_caller_id_lookup": False,
            "voice_application_sid": None,
            "sms_url": None,
            "sms_method": "POST",
            "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "status": "in-use",
            "date_created": created,
            "date_updated": created,
            "uri": f"/{API_VERSION}/Accounts/{emu.account_sid}/IncomingPhoneNumbers/{sid}.json",
        }

    # -- messages ---------------------------------------------------------

    def create_message(self, account_sid: str) -> tuple[Response, int]:
        """Messages.create: validate, store in emu.messages, answer 201 queued."""
        form = request.form
        to = form.get("To", "").strip()
        from_ = form.get("From", "").strip() or form.get("MessagingServiceSid", "").strip()
        body = form.get("Body", "")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not PHONE_NUMBER.match(to):
            return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body and not form.getlist("MediaUrl"):
            return twilio_error(400, 21602, "Message body is required.")
        message = self.emu.send_message(to, from_, body, form.get("StatusCallback") or None)
        return jsonify(self.message_json(message)), 201

    def list_messages(self, account_sid: str) -> Response:
        """Messages.list, newest first like Twilio's, with the To/From filters."""
        wanted_to, wanted_from = request.args.get("To"), request.args.get("From")
        messages = [
            self.message_json(message)
            for message in reversed(list(self.emu.messages))
            if (wanted_to is None or message["to"] == wanted_to)
            and (wanted_from is None or message["from"] == wanted_from)
        ]
        return jsonify(page("messages", messages, request.path))

    def fetch_message(self, account_sid: str, sid: str) -> tuple[Response, int]:
        """messages(sid).fetch()."""
        for message in list(self.emu.messages):
            if message["sid"] == sid:
                return jsonify(self.message_json(message)), 200
        return self.not_found()

    def message_json(self, message: dict[str, str]) -> dict[str, object]:
        """A stored message as Twilio's REST API returns it."""
        uri = f"/{API_VERSION}/Accounts/{self.emu.account_sid}/Messages/{message['sid']}"
        created = message["date_created"]
        return {
            "sid": message["sid"],
            "account_sid": self.emu.account_sid,
            "api_version": API_VERSION,
            "to": message["to"],
            "from": message["from"],
            "body": message["body"],
            "status": message["status"],
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "messaging_service_sid": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "date_created": created,
            "date_updated": created,
            "date_sent": None if message["status"] == "queued" else created,
            "uri": f"{uri}.json",
            "subresource_uris": {"media": f"{uri}/Media.json"},
        }

    # -- recordings -------------------------------------------------------

    def recording_audio(self, account_sid: str, name: str) -> Response | tuple[Response, int]:
        """A second of silence for any recording name (tests make URLs by hand); a deleted recording is gone."""
        if name.split(".", 1)[0] in self.emu.deleted_recordings:
            return self.not_found()
        return Response(silent_wav(), mimetype="audio/x-wav")

    def delete_recording(self, account_sid: str, sid: str) -> Response | tuple[Response, int]:
        """``DELETE Recordings/{sid}.json``: 204, or Twilio's 404 for a recording that is not (or no longer) there."""
        if not self.emu.delete_recording(sid):
            return self.not_found()
        return Response(status=204)

    # -- control API (JSON, loopback only) ----------------------------------

    def control_place_call(self) -> tuple[Response, int]:
        """Run an inbound call synchronously and report what the caller heard."""
        data = request.get_json(silent=True) or {}
        if not isinstance(data, dict) or not data.get("from"):
            return jsonify({"error": "JSON body with a 'from' number is required"}), 400
        keys = data.get("keys")
        rec = self.emu.place_inbound_call(
            str(data["from"]),
            keys=[str(key) for key in keys] if keys is not None else None,
            to=data.get("to"),
            hangup_when_done=bool(data.get("hangup_when_done", False)),
        )
        summary = rec.summary()
        wanted = ("sid", "status", "heard", "events", "errors", "duration")
        return jsonify({key: summary[key] for key in wanted}), 200

    def control_list_calls(self) -> Response:
        """Every call the emulator knows, oldest first."""
        return jsonify([rec.summary() for rec in list(self.emu.calls.values())])

    def control_list_phones(self) -> Response:
        """The numbers with their own Phone, and the default."""
        phones = {number: dataclasses.asdict(phone) for number, phone in self.emu.phones.items()}
        return jsonify({"default": dataclasses.asdict(self.emu.default_phone), "phones": phones})

    def control_set_phone(self, number: str) -> tuple[Response, int]:
        """Give a number its own behaviour from a JSON object of Phone fields."""
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify({"error": "JSON object of Phone fields required"}), 400
        unknown = set(data) - PHONE_FIELDS
        if unknown:
            return jsonify({"error": f"unknown Phone fields: {sorted(unknown)}"}), 400
        try:
            phone = Phone(**data)
        except (TypeError, ValueError) as exc:
            return jsonify({"error": str(exc)}), 400
        self.emu.set_phone(number, phone, leased=True)
        return jsonify({"number": number, **dataclasses.asdict(phone)}), 200

    def control_list_messages(self) -> Response:
        """Every message sent through Messages.create."""
        return jsonify(list(self.emu.messages))

    def control_list_requests(self) -> Response:
        """Every webhook request the emulator made."""
        return jsonify(list(self.emu.requests))

    # -- interactive phones (the phone lab) -----------------------------------

    def control_list_handsets(self) -> Response:
        """Every interactive phone and what is happening on it; looking keeps them (the lease)."""
        self.emu.renew_handsets()
        return jsonify({number: handset.state() for number, handset in self.emu.handsets.items()})

    def control_handset(self, number: str) -> tuple[Response, int]:
        """One interactive phone."""
        handset = self.emu.handsets.get(number.strip())
        if handset is None:
            return jsonify({"error": f"{number} is not an interactive phone"}), 404
        return jsonify(handset.state()), 200

    def control_handset_action(self, number: str, action: str) -> tuple[Response, int]:
        """What the person does: call, answer, decline, hangup, keys {"keys"}, speech {"text"}."""
        handset = self.emu.handsets.get(number.strip())
        if handset is None:
            return jsonify({"error": f"{number} is not an interactive phone"}), 404
        data = request.get_json(silent=True)
        data = data if isinstance(data, dict) else {}
        if action == "call":
            rec = self.emu.call_from_handset(handset.number, data.get("to") or None)
            if rec is None:
                return jsonify({"error": "this phone is already ringing or on a call"}), 409
            return jsonify({"sid": rec.sid}), 201
        if action in ("answer", "decline", "hangup"):
            done = {"answer": handset.answer, "decline": handset.decline, "hangup": handset.hang_up}[action]()
            if not done:
                return jsonify({"error": f"nothing to {action} on this phone"}), 409
            return jsonify(handset.state()), 200
        if action == "keys":
            keys = str(data.get("keys", ""))
            if not keys or any(key not in DTMF_KEYS for key in keys):
                return jsonify({"error": "keys are digits, * and #"}), 400
            return jsonify({"accepted": handset.press(keys)}), 200
        if action == "speech":
            return jsonify({"accepted": handset.speak(str(data.get("text", "")))}), 200
        return jsonify({"error": f"unknown action {action}"}), 404


def create_app(emu: TwilioEmulator) -> Flask:
    """The Flask app serving `emu`."""
    return RestApi(emu).app


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: the emulator logs one line per call instead."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log."""


class RestServer:
    """Serves a WSGI app with werkzeug in a daemon thread."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
        self.thread = threading.Thread(target=self.serve, name="emulator-rest", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return self.server.server_port

    def start(self) -> None:
        """Begin serving."""
        self.thread.start()

    def serve(self) -> None:
        """Serve until stop(); a short poll interval keeps stop() quick."""
        self.server.serve_forever(poll_interval=POLL_SECONDS)

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
