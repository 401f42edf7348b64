"""Whole-call flows: an inbound call to the desk, and a call created through REST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.phones import CallerInput
from emulator.progress import ProgressCallbacks
from emulator.records import CallRecord, call_params, rfc2822, utcnow
from emulator.twiml import CallSession

if TYPE_CHECKING:
    from emulator.core import TwilioEmulator


@dataclass(frozen=True)
class OutboundRequest:
    """The parameters of a Calls.create request that shape the call."""

    url: str = ""
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = frozenset({"completed"})
    timeout: int = 60


def run_inbound_call(emu: TwilioEmulator, rec: CallRecord, caller: CallerInput) -> None:
    """Walk an inbound call from the number's voice URL, then post its status.

    The first request says CallStatus=ringing; the number's status callback
    gets the completed event at the end.
    """
    rec.status = "ringing"
    rec.start_time = utcnow()
    fallback = (emu.fallback_url, "POST") if emu.fallback_url else None
    session = CallSession(emu, rec, caller, fallback=fallback)
    ended = session.run(emu.voice_url or "")
    rec.finish(ended.status)
    if emu.status_url:
        params = call_params(rec) | {
            "CallDuration": str(rec.duration),
            "Timestamp": rfc2822(utcnow()) or "",
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        emu.notify(rec, emu.status_url, params)


def run_outbound_call(emu: TwilioEmulator, rec: CallRecord, request: OutboundRequest) -> None:
    """Ring the callee of a REST-created call and, once answered, walk its TwiML."""
    progress = ProgressCallbacks(
        emu, rec, request.status_callback, request.status_callback_method, request.status_events
    )
    progress.report("initiated", "initiated")
    phone = emu.phone_for(rec.to, rec)
    if phone.answer in ("busy", "failed"):
        rec.finish(phone.answer)
        progress.completed()
        return
    rec.status = "ringing"
    progress.report("ringing", "ringing")
    if phone.answer != "answer" or phone.ring_seconds >= request.timeout:
        rec.finish("no-answer")
        progress.completed()
        return
    emu.sleep(phone.ring_seconds, rec.control)
    if rec.control.hangup_status or emu.stopping:
        # Canceled through REST (or the emulator stopped) while ringing.
        rec.finish("canceled")
        progress.completed()
        return
    rec.status = "in-progress"
    rec.start_time = utcnow()
    progress.report("answered", "in-progress")
    # A redirect that arrived while ringing replaces the original Url.
    redirect = rec.control.take_redirect()
    url, method, twiml = request.url, request.method, request.twiml
    if redirect is not None:
        url, method, twiml = redirect.url, redirect.method, redirect.twiml
    fallback = (request.fallback_url, request.fallback_method) if request.fallback_url else None
    callee = CallerInput(phone.keys, phone.hangup_when_done)
    ended = CallSession(emu, rec, callee, fallback=fallback).run(url, method, twiml)
    rec.finish(ended.status)
    progress.completed()
