"""Interactive phones: a person at a browser (the phone lab) instead of a script.

A number whose Phone has ``interactive=True`` gets a ``Handset``. It rings
until its person answers or declines (or the caller's timeout passes), hears
prompts in real time, and takes keys and speech pushed through the control
API as they come, with Twilio's timing rules: a <Gather> ends at its finish
key, at ``numDigits``, or after ``timeout`` seconds without a key; a <Record>
ends at a finish key or after ``timeout`` seconds of silence. Keys pressed
while nothing listens are lost, as on a real call; keys pressed during the
prompts of a <Gather> cut them short (barge-in).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from emulator.phones import CallerInput, Listening

if TYPE_CHECKING:
    from emulator.records import CallRecord

#: How often waits look again for a stop or a REST hang-up they were not woken for.
POLL_SECONDS = 0.05
Pickup = Literal["answer", "busy", "no-answer", "canceled"]


class Handset(CallerInput):
    """One interactive number: the call ringing on it, the call on it, and what its person does.

    It is the ``person`` of the call it is on (the walker calls ``listen``,
    ``hear`` and ``next``); the control API calls the other methods. One call
    at a time: a second call to a busy handset gets "busy".
    """

    interactive = True

    def __init__(self, number: str) -> None:
        super().__init__([], hangup_when_done=False)
        self.number = number
        self._changed = threading.Condition()
        self.ringing: CallRecord | None = None
        self._pickup: Pickup | None = None
        self.call: CallRecord | None = None
        self.last_call: CallRecord | None = None
        self.listening: Listening | None = None
        self.talking_with: str | None = None
        # The language of the last prompt said (<Say language>), for the page's speech synthesis.
        self.language: str | None = None
        self._typed = ""
        self._speech = ""
        self._last_input = 0.0
        self._hung_up = False

    # -- the person, through the control API ----------------------------------

    def answer(self) -> bool:
        """Pick up the ringing call; False when nothing rings."""
        return self._decide("answer")

    def decline(self) -> bool:
        """Refuse the ringing call (the caller hears busy)."""
        return self._decide("busy")

    def _decide(self, pickup: Pickup) -> bool:
        with self._changed:
            if self.ringing is None or self._pickup is not None:
                return False
            self._pickup = pickup
            self._changed.notify_all()
            return True

    def press(self, keys: str) -> bool:
        """Keys typed on the keypad; False (and lost) when the call is not listening for them."""
        with self._changed:
            if self.listening is None or self._hung_up:
                return False
            self._typed += keys
            self._last_input = time.monotonic()
            self._changed.notify_all()
            return True

    def speak(self, text: str) -> bool:
        """What the person says so far into a <Record> (the page sends it while they type)."""
        with self._changed:
            if self.listening is None or self.listening.kind != "record" or self._hung_up:
                return False
            # A finish key inside the words would end the recording early; speech has none.
            self._speech = "".join(ch for ch in text if ch not in self.listening.finish_keys)[:1000]
            self._last_input = time.monotonic()
            self._changed.notify_all()
            return True

    def hang_up(self) -> bool:
        """End the call on this handset (or refuse the ringing one)."""
        if self._decide("busy"):
            return True
        with self._changed:
            call = self.call
            if call is None or not call.is_live:
                return False
            self._hung_up = True
            self._changed.notify_all()
        # The walker applies it at its next verb, like a hang-up through the REST API.
        call.control.hang_up("completed")
        return True

    # -- the emulator, placing and ringing calls -------------------------------

    def take(self, rec: CallRecord) -> bool:
        """Start ``rec`` on this handset (a call placed from it); False when it is busy."""
        with self._changed:
            if self.busy:
                return False
            self._start(rec)
            return True

    def ring(self, rec: CallRecord, timeout: float, cancelled: Callable[[], bool]) -> Pickup:
        """Ring until the person decides, ``timeout`` passes, or the call is cancelled (caller gone, stop)."""
        with self._changed:
            if self.busy:
                return "busy"
            self.ringing, self._pickup = rec, None
            self._changed.notify_all()
        deadline = time.monotonic() + timeout
        try:
            while True:
                with self._changed:
                    if self._pickup is not None:
                        if self._pickup == "answer":
                            self._start(rec)
                        return self._pickup
                    if rec.control.pending or cancelled():
                        return "canceled"
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return "no-answer"
                    self._changed.wait(min(left, POLL_SECONDS))
        finally:
            with self._changed:
                if self.ringing is rec:
                    self.ringing = None
                    self._changed.notify_all()

    def _start(self, rec: CallRecord) -> None:
        self.call, self.ringing = rec, None
        self.listening, self.talking_with = None, None
        self._typed = self._speech = ""
        self._hung_up = False

    def connected(self, other: str | None) -> None:
        """Bridged to ``other`` (None: the bridge ended)."""
        with self._changed:
            self.talking_with = other
            self._changed.notify_all()

    def ended(self, rec: CallRecord) -> None:
        """``rec`` is over; the handset is free again."""
        with self._changed:
            if self.call is rec:
                self.last_call, self.call = rec, None
                self.listening, self.talking_with = None, None
                self._changed.notify_all()

    @property
    def busy(self) -> bool:
        return self.ringing is not None or (self.call is not None and self.call.is_live)

    # -- the walker, as the person on the call ---------------------------------

    def listen(self, listening: Listening) -> None:
        with self._changed:
            self.listening = listening
            self._typed = self._speech = ""
            self._last_input = time.monotonic()

    def hear(self, seconds: float, language: str | None = None) -> None:
        """Take the time a prompt lasts; a key pressed meanwhile in a <Gather> cuts it short."""
        deadline = time.monotonic() + seconds
        with self._changed:
            if language:
                self.language = language
            while not self._hung_up and not (self.listening and self._typed):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(min(left, POLL_SECONDS * 4))

    def next(self) -> str | None:
        """Wait for what the current <Gather>/<Record> collects; None when the person hung up."""
        with self._changed:
            listening = self.listening
            if listening is None:
                return ""
            self._last_input = time.monotonic()
            try:
                while not self._hung_up:
                    typed = self._typed
                    finished = any(key in listening.finish_keys for key in typed)
                    if listening.kind == "keys" and listening.num_digits and len(typed) >= listening.num_digits:
                        finished = True
                    if finished:
                        return (self._speech + " " + typed).strip() if listening.kind == "record" else typed
                    silence = time.monotonic() - self._last_input
                    if silence >= listening.timeout:
                        return self._speech if listening.kind == "record" else typed
                    self._changed.wait(min(listening.timeout - silence, POLL_SECONDS * 4))
                return None
            finally:
                self.listening = None
                self._typed = self._speech = ""

    # -- what the page shows ---------------------------------------------------

    def state(self) -> dict[str, object]:
        """A JSON view for the phone lab's page."""
        with self._changed:
            call = self.call or self.last_call
            ringing = self.ringing
            return {
                "number": self.number,
                "status": "ringing" if ringing else "in-call" if self.call is not None else "idle",
                "ringing_from": ringing.from_ if ringing else None,
                "listening": self.listening.kind if self.listening else None,
                "talking_with": self.talking_with,
                "language": self.language,
                "call": None
                if call is None
                else {
                    "sid": call.sid,
                    "from": call.from_,
                    "to": call.to,
                    "status": call.status,
                    "heard": list(call.heard),
                },
            }
