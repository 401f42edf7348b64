"""TwilioEmulator: the emulator's state and its Python API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from emulator.calls import OutboundRequest, run_inbound_call, run_outbound_call
from emulator.handsets import Handset
from emulator.phones import CallerInput, Phone, PhoneFactory
from emulator.queues import Queues
from emulator.recordings import Recording, RecordingCallbacks, send_recording_callbacks
from emulator.records import (
    API_VERSION,
    CallControl,
    CallRecord,
    Direction,
    new_sid,
    rfc2822,
    utcnow,
)
from emulator.webhooks import DEFAULT_TIMEOUT, Webhooks

if TYPE_CHECKING:
    from emulator.rest import RestServer

logger = logging.getLogger("emulator")

DEFAULT_DESK_NUMBER = "+3234603535"
MAX_FETCHES = 200
# How often real-time waits look for REST instructions or a stop.
POLL_SECONDS = 0.05
REST_HANG_SECONDS = 30.0
#: Phones a browser made interactive through the control API go back to their automatic
#: behaviour when nobody has looked at them (GET /_emulator/handsets) for this long.
HANDSET_LEASE_SECONDS = 60.0
HOLD_LOOP_SECONDS = 0.2

#: 500: refused; "timeout": no answer before the client gives up, nothing done; "late": done, but
#: answered only after the client gave up (the provider was slow: the client cannot know it worked).
RestFault = Literal[500, "timeout", "late"] | None


class TwilioEmulator:
    """A local stand-in for Twilio Programmable Voice and Messaging.

    It calls the app's webhooks like Twilio (signed, form-encoded), walks the
    TwiML it gets back on behalf of emulated phones, and serves the REST API
    the twilio library talks to, at `base_url` once started.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        desk_number: str = DEFAULT_DESK_NUMBER,
        voice_url: str | None = None,
        status_url: str | None = None,
        fallback_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        webhook_timeout: float = DEFAULT_TIMEOUT,
        max_fetches: int = MAX_FETCHES,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.desk_number = desk_number
        self.started_at = utcnow()
        self.voice_url = voice_url
        self.status_url = status_url
        self.fallback_url = fallback_url
        self.host = host
        self.port = port
        self.max_fetches = max_fetches
        self.calls: dict[str, CallRecord] = {}
        self.messages: list[dict[str, str]] = []
        #: Recordings made by <Record>, by SID; one deleted through the REST API is gone from here.
        self.recordings: dict[str, Recording] = {}
        self.deleted_recordings: set[str] = set()
        self.requests: list[dict[str, object]] = []
        self.default_phone = Phone()
        self.phone_factory: PhoneFactory | None = None
        self.fail_rest: RestFault = None
        self.queues = Queues()
        #: Real seconds between two requests of an <Enqueue> waitUrl (hold music, compressed).
        self.hold_loop_seconds = HOLD_LOOP_SECONDS
        self.webhooks = Webhooks(auth_token, self._log_request, webhook_timeout)
        self._phones: dict[str, Phone] = {}
        self._handsets: dict[str, Handset] = {}
        self._leased: set[str] = set()
        self._lease_until = 0.0
        self.handset_lease_seconds = HANDSET_LEASE_SECONDS
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._background = 0
        self._stop = threading.Event()
        self._server: RestServer | None = None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> TwilioEmulator:
        """Serve the REST and control API in a background thread."""
        from emulator.rest import RestServer, create_app

        self._stop.clear()
        self._server = RestServer(create_app(self), self.host, self.port)
        self._server.start()
        logger.debug("Twilio emulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; live calls end at their next verb, waits end at once."""
        self._stop.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> TwilioEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where the REST API is served, e.g. http://127.0.0.1:5050."""
        port = self._server.port if self._server is not None else self.port
        return f"http://{self.host}:{port}"

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    # -- phones ---------------------------------------------------------------

    def set_phone(self, number: str, phone: Phone, leased: bool = False) -> None:
        """Give `number` its own behaviour. A `leased` interactive phone (the control API's)
        is given back when its lease runs out: see renew_handsets()."""
        number = number.strip()
        with self._lock:
            self._phones[number] = phone
            if leased and phone.interactive:
                self._leased.add(number)
                self.renew_handsets()
            else:
                self._leased.discard(number)

    def renew_handsets(self) -> None:
        """Somebody is looking at the interactive phones: keep them for another lease."""
        with self._lock:
            self._lease_until = time.monotonic() + self.handset_lease_seconds

    def release_idle_handsets(self) -> list[str]:
        """Give back leased phones nobody has looked at for a lease, unless a call is on them."""
        with self._lock:
            if not self._leased or time.monotonic() < self._lease_until:
                return []
            released = [number for number in self._leased if not self.handset(number).busy]
            for number in released:
                self._leased.discard(number)
                self._phones.pop(number, None)
                self._handsets.pop(number, None)
        if released:
            logger.info("phones %s left by the browser: back to their automatic behaviour", ", ".join(released))
        return released

    def phone_for(self, number: str, call: CallRecord) -> Phone:
        """The behaviour of `number` on `call`: its own Phone, else the factory's,
        else the default."""
        self.release_idle_handsets()
        with self._lock:
            phone = self._phones.get(number.strip())
        if phone is not None:
            return phone
        if self.phone_factory is not None:
            return self.phone_factory(call)
        return self.default_phone

    def handset(self, number: str) -> Handset:
        """The interactive phone of `number` (created on first use)."""
        with self._lock:
            return self._handsets.setdefault(number.strip(), Handset(number.strip()))

    @property
    def handsets(self) -> dict[str, Handset]:
        """The interactive phones: numbers whose Phone is interactive."""
        with self._lock:
            return {number: self.handset(number) for number, phone in self._phones.items() if phone.interactive}

    @property
    def phones(self) -> dict[str, Phone]:
        """A copy of the numbers that have their own Phone."""
        with self._lock:
            return dict(self._phones)

    # -- calls ----------------------------------------------------------------

    def new_call(self, direction: Direction, from_: str, to: str, parent_sid: str | None = None) -> CallRecord:
        """Create and register a call record."""
        rec = CallRecord(
            sid=new_sid("CA"),
            direction=direction,
            from_=from_,
            to=to,
            account_sid=self.account_sid,
            parent_sid=parent_sid,
        )
        with self._lock:
            self.calls[rec.sid] = rec
        return rec

    def place_inbound_call(
        self,
        from_: str,
        keys: list[str] | None = None,
        to: str | None = None,
        hangup_when_done: bool = False,
        hold_patience: float | None = None,
    ) -> CallRecord:
        """Call the desk from `from_` and walk the whole call; returns when it ends.

        `keys` are the caller's inputs (default: the caller's Phone keys). When
        they run out the caller stays silent, or hangs up at the next prompt
        if `hangup_when_done`.
        """
        rec = self.new_call("inbound", from_=from_, to=to or self.desk_number)
        if keys is None:
            keys = self.phone_for(from_, rec).keys
        run_inbound_call(self, rec, CallerInput(keys, hangup_when_done, hold_patience))
        self._log_call(rec)
        return rec

    def call_from_handset(self, number: str, to: str | None = None) -> CallRecord | None:
        """A person in the phone lab dials the desk from `number`; the call runs in the background.

        None when that handset is already ringing or on a call.
        """
        handset = self.handset(number)
        rec = CallRecord(
            sid=new_sid("CA"),
            direction="inbound",
            from_=handset.number,
            to=to or self.desk_number,
            account_sid=self.account_sid,
        )
        if not handset.take(rec):
            return None
        with self._lock:
            self.calls[rec.sid] = rec

        def job() -> None:
            run_inbound_call(self, rec, handset)
            self._log_call(rec)

        self.spawn(job, f"call-{rec.sid}")
        return rec

    def start_outbound_call(self, rec: CallRecord, request: OutboundRequest) -> None:
        """Run a REST-created call in the background."""

        def job() -> None:
            run_outbound_call(self, rec, request)
            self._log_call(rec)

        self.spawn(job, f"call-{rec.sid}")

    # -- messages ---------------------------------------------------------

    def send_message(self, to: str, from_: str, body: str, status_callback: str | None = None) -> dict[str, str]:
        """Accept an SMS like Messages.create: queued now, delivered in the background."""
        message = {
            "sid": new_sid("SM"),
            "to": to,
            "from": from_,
            "body": body,
            "status": "queued",
            "date_created": rfc2822(utcnow()),
        }
        with self._lock:
            self.messages.append(message)
        snapshot = dict(message)
        self.spawn(lambda: self._deliver(message, status_callback), "sms")
        return snapshot

    def _deliver(self, message: dict[str, str], status_callback: str | None) -> None:
        """Move a message through sent and delivered, posting its StatusCallback."""
        for status in ("sent", "delivered"):
            with self._lock:
                message["status"] = status
            if status_callback:
                params = {
                    "AccountSid": self.account_sid,
                    "ApiVersion": API_VERSION,
                    "MessageSid": message["sid"],
                    "SmsSid": message["sid"],
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "From": message["from"],
                    "To": message["to"],
                }
                self.notify(None, status_callback, params)

    # -- recordings -------------------------------------------------------

    def new_recording(self, duration: int) -> Recording:
        """A recording whose URL the emulator serves."""
        sid = new_sid("RE")
        url = f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"
        recording = Recording(sid, url, duration)
        with self._lock:
            self.recordings[sid] = recording
        return recording

    def delete_recording(self, sid: str) -> bool:
        """Delete a recording as ``DELETE Recordings/{sid}`` does; False when there is none."""
        with self._lock:
            if self.recordings.pop(sid, None) is None:
                return False
            self.deleted_recordings.add(sid)
            return True

    def start_recording_callbacks(
        self,
        rec: CallRecord,
        recording: Recording | None,
        callbacks: RecordingCallbacks,
        speech: str,
    ) -> None:
        """Post a <Record>'s callbacks asynchronously, as Twilio does."""
        if callbacks.status_url or (recording is not None and callbacks.transcribe_url):
            self.spawn(
                lambda: send_recording_callbacks(self, rec, recording, callbacks, speech),
                "recording-callbacks",
            )

    # -- plumbing -------------------------------------------------------------

    def notify(
        self,
        rec: CallRecord | None,
        url: str,
        params: dict[str, str],
        method: str = "POST",
    ) -> None:
        """Make a callback whose answer Twilio ignores; failures go in rec.errors."""
        result = self.webhooks.send(url, params, method)
        if result.error is not None and rec is not None:
            detail = result.error.message.removeprefix("application error: ")
            with self._lock:
                rec.errors.append(f"callback failed: {detail}")

    def sleep(self, seconds: float, *controls: CallControl) -> bool:
        """Really wait, unless a REST instruction or stop() interrupts.

        Returns True when interrupted.
        """
        deadline = time.monotonic() + seconds
        while True:
            if self._stop.is_set() or any(control.pending for control in controls):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._stop.wait(min(left, POLL_SECONDS))

    def sleep_until(self, event: threading.Event, seconds: float, *controls: CallControl) -> None:
        """Really wait up to ``seconds`` for ``event``, a REST instruction or stop()."""
        deadline = time.monotonic() + seconds
        while not event.is_set() and not self._stop.is_set() and not any(c.pending for c in controls):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            event.wait(min(left, POLL_SECONDS))

    @property
    def stop_event(self) -> threading.Event:
        """Set once stop() was called (for waits that take an Event)."""
        return self._stop

    def hang_rest_request(self) -> None:
        """Hold a REST answer past any client timeout (fail_rest="timeout" or "late")."""
        self._stop.wait(REST_HANG_SECONDS)

    def spawn(self, target: Callable[[], None], name: str) -> None:
        """Run `target` in a daemon thread that wait_idle() waits for."""
        with self._lock:
            self._background += 1

        def job() -> None:
            try:
                target()
            except Exception:
                logger.exception("emulator background job %s failed", name)
            finally:
                with self._idle:
                    self._background -= 1
                    self._idle.notify_all()

        threading.Thread(target=job, name=f"emulator-{name}", daemon=True).start()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no background call or callback runs; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._background == 0, timeout)

    def _log_request(self, entry: dict[str, object]) -> None:
        """Remember a webhook request in `requests`."""
        with self._lock:
            self.requests.append(entry)

    def _log_call(self, rec: CallRecord) -> None:
        """One line per finished call, for the CLI and test logs."""
        logger.info(
            "%s call %s %s -> %s: %s, %ss%s",
            rec.direction,
            rec.sid,
            rec.from_,
            rec.to,
            rec.status,
            rec.duration,
            f", errors: {'; '.join(rec.errors)}" if rec.errors else "",
        )
