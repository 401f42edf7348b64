"""Call-progress status callbacks (StatusCallback and statusCallbackEvent)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from emulator.records import CallRecord, call_params, rfc2822, utcnow

if TYPE_CHECKING:
    from emulator.core import TwilioEmulator

PROGRESS_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})


def parse_events(values: Iterable[str], default: frozenset[str] = frozenset({"completed"})) -> frozenset[str]:
    """Read statusCallbackEvent values, repeated or space/comma separated."""
    events = {word.lower() for value in values for word in value.replace(",", " ").split()}
    return frozenset(events & PROGRESS_EVENTS) or default


class ProgressCallbacks:
    """Posts one leg's subscribed progress events, in order, numbered like Twilio.

    Requests are made synchronously as the call progresses, so they reach the
    app in the order the events happen.
    """

    def __init__(
        self,
        emu: TwilioEmulator,
        rec: CallRecord,
        url: str | None,
        method: str = "POST",
        events: frozenset[str] = frozenset({"completed"}),
    ) -> None:
        self.emu = emu
        self.rec = rec
        self.url = url
        self.method = method
        self.events = events
        self.sequence = 0

    def report(self, event: str, call_status: str, **extra: str) -> None:
        """Post `event` with CallStatus `call_status` if the app subscribed to it."""
        if not self.url or event not in self.events:
            return
        params = call_params(self.rec)
        params.update(
            CallStatus=call_status,
            SequenceNumber=str(self.sequence),
            Timestamp=rfc2822(utcnow()) or "",
            CallbackSource="call-progress-events",
            **extra,
        )
        self.sequence += 1
        self.emu.notify(self.rec, self.url, params, self.method)

    def completed(self) -> None:
        """Post the final event with the leg's final status and duration."""
        self.report("completed", self.rec.status, CallDuration=str(self.rec.duration))
