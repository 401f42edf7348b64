"""The TwiML walker: plays one call leg through the app's documents, verb by verb."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urljoin

from emulator.phones import CallerInput, Listening, speak_then_press, spoken_seconds, type_keys
from emulator.recordings import Recording, RecordingCallbacks
from emulator.records import RedirectTarget, call_params
from emulator.webhooks import Document, WebhookError, parse_twiml

if TYPE_CHECKING:
    from emulator.core import TwilioEmulator
    from emulator.records import CallRecord

APP_ERROR_MESSAGE = "An application error has occurred. Goodbye."
DTMF_KEYS = "0123456789*#"
PLAY_SECONDS = 5
SILENT_RECORDING_SECONDS = 2

Handler = Callable[[ET.Element, Document], "Document | None"]


class CallEnded(Exception):
    """Unwinds the walker when the leg is over; `reason` says why."""

    def __init__(self, reason: str, status: str = "completed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def is_true(value: str | None) -> bool:
    """TwiML boolean attribute."""
    return (value or "").strip().lower() == "true"


def int_attr(verb: ET.Element, name: str, default: int | None) -> int | None:
    """An integer attribute, or `default` when absent or malformed."""
    try:
        return int(verb.get(name, ""))
    except ValueError:
        return default


def method_of(verb: ET.Element) -> str:
    """The HTTP method a verb asks for (Twilio's default is POST)."""
    return (verb.get("method") or "POST").upper()


class CallSession:
    """Walks one leg's TwiML: fetches documents, performs verbs, obeys REST control.

    `person` supplies the inputs of whoever is on the line. A whisper session
    runs a <Number url> document on a dialed leg; it may not <Dial>.
    """

    def __init__(
        self,
        emu: TwilioEmulator,
        rec: CallRecord,
        person: CallerInput,
        *,
        fallback: tuple[str, str] | None = None,
        whisper: bool = False,
    ) -> None:
        self.emu = emu
        self.rec = rec
        self.person = person
        self.fallback = fallback
        self.whisper = whisper
        self.fetches = 0
        self.verbs_done = 0
        self.current_url = ""
        self.handlers: dict[str, Handler] = {
            "Say": self.say,
            "Play": self.play,
            "Pause": self.pause,
            "Gather": self.gather,
            "Record": self.record,
            "Dial": self.dial,
            "Redirect": self.redirect,
            "Hangup": self.hangup,
            "Reject": self.reject,
            "Enqueue": self.enqueue,
            "Leave": self.leave,
        }

    # -- the walk ---------------------------------------------------------

    def run(
        self, url: str, method: str = "POST", twiml: str | None = None, extra: dict[str, str] | None = None
    ) -> CallEnded:
        """Walk the leg from `url` (or inline `twiml`) until it ends; `extra` goes with the first request."""
        try:
            doc = self.inline(twiml) if twiml is not None else self.fetch(url, method, extra, allow_fallback=True)
            if self.rec.status in ("queued", "ringing"):
                self.rec.status = "in-progress"
            while True:
                doc = self.execute(doc)
        except CallEnded as ended:
            return ended

    def execute(self, doc: Document) -> Document:
        """Perform `doc` verb by verb; return the document that replaces it."""
        self.current_url = doc.url
        for verb in doc.root:
            redirected = self.checkpoint()
            if redirected is not None:
                return redirected
            handler = self.handlers.get(verb.tag)
            if handler is None:
                self.invalid(doc, f"unknown verb <{verb.tag}>")
            following = handler(verb, doc)
            self.verbs_done += 1
            if following is not None:
                return following
        redirected = self.checkpoint()
        if redirected is not None:
            return redirected
        raise CallEnded("end")

    def checkpoint(self) -> Document | None:
        """Apply what happened outside the walk: emulator stop, REST hang-up/redirect."""
        if self.emu.stopping:
            self.rec.events.append(("stopped", ""))
            raise CallEnded("stopped")
        control = self.rec.control
        status = control.hangup_status
        if status is not None:
            self.rec.events.append(("rest-hangup", status))
            raise CallEnded("rest-hangup")
        target = control.take_redirect()
        if target is None:
            return None
        return self.follow(target)

    def follow(self, target: RedirectTarget) -> Document:
        """Continue with the document a REST update asked for."""
        self.rec.events.append(("rest-redirect", target.url or "twiml"))
        if target.twiml is not None:
            return self.inline(target.twiml)
        return self.fetch(target.url, target.method)

    # -- fetching and errors ----------------------------------------------

    def fetch(
        self,
        url: str,
        method: str = "POST",
        extra: dict[str, str] | None = None,
        *,
        allow_fallback: bool = False,
    ) -> Document:
        """Request the next document; on failure try the fallback, else end the call."""
        params = call_params(self.rec) | (extra or {})
        result = self.counted_fetch(url, method, params)
        if isinstance(result, Document):
            return result
        self.rec.errors.append(result.message)
        if allow_fallback and self.fallback:
            fallback_url, fallback_method = self.fallback
            params |= {"ErrorCode": str(result.code), "ErrorUrl": url}
            recovered = self.counted_fetch(fallback_url, fallback_method, params)
            if isinstance(recovered, Document):
                self.rec.events.append(("fallback", str(result.code)))
                return recovered
            self.rec.errors.append(recovered.message)
        self.app_error()

    def counted_fetch(self, url: str, method: str, params: dict[str, str]) -> Document | WebhookError:
        """Fetch one document, enforcing the per-call loop limit."""
        self.count_document()
        return self.emu.webhooks.fetch_twiml(url, params, method)

    def count_document(self) -> None:
        """Count a document toward the loop limit; end the call past it."""
        self.fetches += 1
        if self.fetches > self.emu.max_fetches:
            self.rec.errors.append("loop limit")
            raise CallEnded("loop-limit")

    def inline(self, twiml: str) -> Document:
        """Parse TwiML given inline through the REST API."""
        self.count_document()
        # Inline TwiML has no URL of its own; relative URLs resolve against the
        # last fetched document.
        result = parse_twiml(twiml, self.current_url)
        if isinstance(result, WebhookError):
            self.rec.errors.append(result.message)
            self.app_error()
        return result

    def app_error(self) -> NoReturn:
        """Twilio's reaction to an unusable answer: apologise and hang up."""
        self.rec.heard.append(APP_ERROR_MESSAGE)
        raise CallEnded("application-error")

    def invalid(self, doc: Document, detail: str) -> NoReturn:
        """End the call over TwiML the emulator (or Twilio) cannot perform."""
        self.rec.errors.append(f"invalid TwiML from {doc.url}: {detail}")
        self.app_error()

    def elapse(self, seconds: float) -> None:
        """Advance the leg's simulated clock."""
        self.rec.duration += int(seconds)

    def person_hangs_up(self) -> NoReturn:
        """The person on the line hangs up instead of answering a prompt."""
        self.rec.events.append(("caller-hangup", ""))
        raise CallEnded("caller-hangup")

    # -- verbs ----------------------------------------------------------------

    def say(self, verb: ET.Element, doc: Document) -> None:
        """<Say>: the text is heard `loop` times (loop="0" is heard once)."""
        text = " ".join("".join(verb.itertext()).split())
        for _ in range(max(1, int_attr(verb, "loop", 1) or 1)):
            self.rec.heard.append(text)
            self.elapse(spoken_seconds(text))
            self.person.hear(spoken_seconds(text), verb.get("language"))

    def play(self, verb: ET.Element, doc: Document) -> None:
        """<Play>: heard as "[play <url>]" (or the DTMF digits it sends)."""
        url = (verb.text or "").strip()
        heard = f"[play {url}]" if url else f"[play digits {verb.get('digits', '')}]"
        for _ in range(max(1, int_attr(verb, "loop", 1) or 1)):
            self.rec.heard.append(heard)
            self.elapse(PLAY_SECONDS)
            self.person.hear(PLAY_SECONDS)

    def pause(self, verb: ET.Element, doc: Document) -> None:
        """<Pause>: silence for `length` seconds."""
        self.elapse(int_attr(verb, "length", 1) or 0)
        self.person.hear(int_attr(verb, "length", 1) or 0)

    def gather(self, verb: ET.Element, doc: Document) -> Document | None:
        """<Gather>: prompts, then one input item from the person on the line."""
        timeout = int_attr(verb, "timeout", 5) or 5
        finish_on_key = verb.get("finishOnKey", "#")
        # Listening starts with the prompts: a key pressed during them cuts them short.
        self.person.listen(Listening("keys", finish_on_key, int_attr(verb, "numDigits", None), timeout))
        for child in verb:
            if child.tag not in ("Say", "Play", "Pause"):
                self.invalid(doc, f"<{child.tag}> cannot be nested in <Gather>")
            self.handlers[child.tag](child, doc)
        item = self.person.next()
        if item is None:
            # Hanging up during a <Gather> ends the call; no action request.
            self.person_hangs_up()
        if "speech" in verb.get("input", "dtmf") and item.strip(DTMF_KEYS + " "):
            return self.gather_speech(verb, doc, item, timeout)
        keys = "".join(key for key in item if key in DTMF_KEYS)
        entry = type_keys(keys, finish_on_key, int_attr(verb, "numDigits", None))
        self.rec.events.append(("gather", f"digits={entry.digits}"))
        self.elapse(len(keys) + (timeout if entry.timed_out else 0))
        # Twilio treats "timed out with nothing" and "pressed only finishOnKey"
        # alike: no action request, the next verb runs - unless
        # actionOnEmptyResult asks for the request anyway.
        if not entry.digits and not is_true(verb.get("actionOnEmptyResult")):
            return None
        params = {"Digits": entry.digits, "FinishedOnKey": entry.finished_on_key}
        return self.fetch(urljoin(doc.url, verb.get("action", "")), method_of(verb), params)

    def gather_speech(self, verb: ET.Element, doc: Document, item: str, timeout: int) -> Document:
        """A spoken answer to a <Gather input="speech ...">."""
        speech = item.strip()
        self.rec.events.append(("gather", f"speech={speech}"))
        self.elapse(spoken_seconds(speech) + 1)
        params = {"SpeechResult": speech, "Confidence": "0.9"}
        return self.fetch(urljoin(doc.url, verb.get("action", "")), method_of(verb), params)

    def record(self, verb: ET.Element, doc: Document) -> Document | None:
        """<Record>: beep, then the person's next input is the message."""
        if verb.get("playBeep", "true").lower() != "false":
            self.rec.heard.append("[beep]")
        action = urljoin(doc.url, verb.get("action", ""))
        callbacks = RecordingCallbacks.from_verb(verb, doc.url)
        finish_keys = verb.get("finishOnKey", "1234567890*#")
        timeout = int_attr(verb, "timeout", 5) or 5
        self.person.listen(Listening("record", finish_keys, None, timeout))
        item = self.person.next()
        if item is None:
            self.record_hangup(verb, action, callbacks)
        speech, key = speak_then_press(item, finish_keys)
        if not speech and not key:
            # Twilio does not request the action URL for an empty recording;
            # the call continues with the next verb.
            self.rec.events.append(("record", "empty"))
            self.elapse(timeout)
            self.emu.start_recording_callbacks(self.rec, None, callbacks, "")
            return None
        seconds = spoken_seconds(speech) if speech else SILENT_RECORDING_SECONDS
        max_length = int_attr(verb, "maxLength", 3600) or 3600
        recording = self.emu.new_recording(min(seconds, max_length))
        self.rec.events.append(("record", f"digits={key} text={speech}"))
        self.elapse(recording.duration + (0 if key else timeout))
        params = recording.action_params()
        if key:
            params["Digits"] = key
        try:
            return self.fetch(action, method_of(verb), params)
        finally:
            # Started after the action request so they arrive later, as they do
            # from Twilio once the recording is processed.
            self.emu.start_recording_callbacks(self.rec, recording, callbacks, speech)

    def record_hangup(self, verb: ET.Element, action: str, callbacks: RecordingCallbacks) -> NoReturn:
        """The person hangs up mid-recording: the action still gets Digits=hangup."""
        recording: Recording = self.emu.new_recording(SILENT_RECORDING_SECONDS)
        self.rec.events.append(("record", "digits=hangup"))
        self.elapse(recording.duration)
        self.rec.status = "completed"
        params = call_params(self.rec) | recording.action_params() | {"Digits": "hangup"}
        # The call is over: the answer to this request is not executed.
        self.emu.notify(self.rec, action, params, method_of(verb))
        self.emu.start_recording_callbacks(self.rec, recording, callbacks, "")
        self.rec.events.append(("caller-hangup", ""))
        raise CallEnded("caller-hangup")

    def dial(self, verb: ET.Element, doc: Document) -> Document | None:
        """<Dial>: see emulator.dial."""
        from emulator.dial import perform_dial

        return perform_dial(self, verb, doc)

    def enqueue(self, verb: ET.Element, doc: Document) -> Document | None:
        """<Enqueue>: see emulator.queues."""
        from emulator.queues import perform_enqueue

        if self.whisper:
            self.invalid(doc, "<Enqueue> is not allowed in a <Number> url document")
        return perform_enqueue(self, verb, doc)

    def leave(self, verb: ET.Element, doc: Document) -> None:
        """<Leave> outside a wait document: the call is in no queue, nothing happens."""
        self.rec.events.append(("leave", "not queued"))

    def redirect(self, verb: ET.Element, doc: Document) -> Document:
        """<Redirect>: continue with the document at the given URL."""
        url = urljoin(doc.url, (verb.text or "").strip())
        self.rec.events.append(("redirect", url))
        return self.fetch(url, method_of(verb))

    def hangup(self, verb: ET.Element, doc: Document) -> NoReturn:
        """<Hangup>: the app ends the call."""
        self.rec.events.append(("hangup", ""))
        raise CallEnded("hangup")

    def reject(self, verb: ET.Element, doc: Document) -> NoReturn:
        """<Reject>: unanswered inbound call ends busy or no-answer."""
        reason = verb.get("reason", "rejected")
        self.rec.events.append(("reject", reason))
        if self.rec.direction == "inbound" and self.verbs_done == 0:
            raise CallEnded("reject", "busy" if reason == "busy" else "no-answer")
        raise CallEnded("hangup")
