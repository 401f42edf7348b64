"""Whole-call flows: an inbound call to the desk, and a call created through REST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.handsets import Handset
from emulator.phones import CallerInput, Phone
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
    #: MachineDetection: Enable or DetectMessageEnd (None: no answering-machine detection).
    machine_detection: str | None = None


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
    if isinstance(caller, Handset):
        caller.ended(rec)
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
    callee = emu.handset(rec.to) if phone.interactive else CallerInput(phone.keys, phone.hangup_when_done)
    pickup = ring_callee(emu, rec, progress, phone, callee, request.timeout)
    if pickup != "answer":
        rec.finish(pickup)
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
    ended = CallSession(emu, rec, callee, fallback=fallback).run(
        url, method, twiml, detect_machine(rec, phone, request)
    )
    rec.finish(ended.status)
    if isinstance(callee, Handset):
        callee.ended(rec)
    progress.completed()


def detect_machine(rec: CallRecord, phone: Phone, request: OutboundRequest) -> dict[str, str]:
    """Answering-machine detection: with MachineDetection the Url request carries AnsweredBy.

    Twilio holds the Url request until it has decided (synchronous AMD):
    https://www.twilio.com/docs/voice/answering-machine-detection — ``human``,
    ``machine_start`` (Enable) or ``machine_end_beep`` (DetectMessageEnd, after the greeting).
    """
    if not request.machine_detection:
        return {}
    if phone.machine:
        rec.answered_by = "machine_end_beep" if request.machine_detection == "DetectMessageEnd" else "machine_start"
    else:
        rec.answered_by = "human"
    rec.events.append(("answered-by", rec.answered_by))
    return {"AnsweredBy": rec.answered_by}


def ring_callee(
    emu: TwilioEmulator, rec: CallRecord, progress: ProgressCallbacks, phone: Phone, callee: CallerInput, timeout: int
) -> str:
    """Ring the called phone: "answer", or the call's final status (busy, failed, no-answer, canceled)."""
    if isinstance(callee, Handset):
        if callee.busy:
            return "busy"
        rec.status = "ringing"
        progress.report("ringing", "ringing")
        return callee.ring(rec, timeout, lambda: emu.stopping)
    if phone.answer in ("busy", "failed"):
        return phone.answer
    rec.status = "ringing"
    progress.report("ringing", "ringing")
    if phone.answer != "answer" or phone.ring_seconds >= timeout:
        return "no-answer"
    emu.sleep(phone.ring_seconds, rec.control)
    if rec.control.hangup_status or emu.stopping:
        # Canceled through REST (or the emulator stopped) while ringing.
        return "canceled"
    return "answer"
