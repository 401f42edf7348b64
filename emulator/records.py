"""Call records: what the emulator remembers about every call leg, and live control."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

CallStatus = Literal[
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
]
Direction = Literal["inbound", "outbound-api", "outbound-dial"]

FINAL_STATUSES: frozenset[str] = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """Return a Twilio-shaped SID: a two-letter prefix and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    """Return the current time in UTC (all emulator timestamps are UTC)."""
    return datetime.now(UTC)


def rfc2822(moment: datetime | None) -> str | None:
    """Format a time the way Twilio's REST API and callbacks do (RFC 2822, +0000)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


@dataclass(frozen=True)
class RedirectTarget:
    """A REST request to continue a live call with another TwiML document."""

    url: str = ""
    method: str = "POST"
    twiml: str | None = None


class CallControl:
    """Instructions from the REST API for a live call, applied at the next verb.

    The walker polls it between verbs and during real-time waits (ringing, a
    bridged conversation), so an instruction applies promptly.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hangup_status: str | None = None
        self._redirect: RedirectTarget | None = None

    def hang_up(self, status: str = "completed") -> None:
        """Ask for the call to end with `status` (completed or canceled)."""
        with self._lock:
            self._hangup_status = status

    def redirect(self, target: RedirectTarget) -> None:
        """Ask for the call to continue with another document."""
        with self._lock:
            self._redirect = target

    @property
    def hangup_status(self) -> str | None:
        """The status a pending hang-up asks for, or None."""
        with self._lock:
            return self._hangup_status

    def take_redirect(self) -> RedirectTarget | None:
        """Return and clear a pending redirect."""
        with self._lock:
            target, self._redirect = self._redirect, None
            return target

    @property
    def pending(self) -> bool:
        """True when a hang-up or redirect waits to be applied."""
        with self._lock:
            return self._hangup_status is not None or self._redirect is not None


@dataclass
class CallRecord:
    """One call leg as Twilio would record it, plus what the emulated party heard.

    `heard` lists each <Say> text, "[play <url>]" for <Play> and "[beep]" for a
    <Record> beep, in order. `duration` is the simulated call length in seconds.
    """

    sid: str
    direction: Direction
    from_: str
    to: str
    account_sid: str = ""
    status: CallStatus = "queued"
    parent_sid: str | None = None
    heard: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duration: int = 0
    date_created: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    control: CallControl = field(default_factory=CallControl, repr=False, compare=False)
    #: What answering-machine detection found (human, machine_start, …), when it was asked for.
    answered_by: str | None = None

    @property
    def is_live(self) -> bool:
        """True until the call reached a final status."""
        return self.status not in FINAL_STATUSES

    def finish(self, status: str) -> None:
        """Mark the call ended with `status`."""
        self.status = status  # type: ignore[assignment]
        self.end_time = utcnow()

    def summary(self) -> dict[str, object]:
        """A JSON-friendly view for the control API and logs."""
        return {
            "sid": self.sid,
            "direction": self.direction,
            "from": self.from_,
            "to": self.to,
            "status": self.status,
            "parent_sid": self.parent_sid,
            "duration": self.duration,
            "heard": list(self.heard),
            "events": [list(event) for event in self.events],
            "errors": list(self.errors),
        }

    def to_twilio_json(self) -> dict[str, object]:
        """The call as Twilio's REST API returns it (Calls resource)."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": self.parent_sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(utcnow()),
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": None,
            "status": self.status,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "duration": None if self.is_live else str(self.duration),
            "price": None,
            "price_unit": "USD",
            "direction": self.direction,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": f"{uri}.json",
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "events": f"{uri}/Events.json",
            },
        }


def call_params(rec: CallRecord) -> dict[str, str]:
    """The standard parameters Twilio sends with every voice webhook for `rec`."""
    params = {
        "AccountSid": rec.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": rec.sid,
        "CallStatus": rec.status,
        "Direction": rec.direction,
        "From": rec.from_,
        "To": rec.to,
        "Caller": rec.from_,
        "Called": rec.to,
    }
    if rec.parent_sid:
        params["ParentCallSid"] = rec.parent_sid
    return params
