"""Urgent calls put through live, as the caller and the technicians hear them (DESIGN §5).

The ticket is opened and its number said first; then every free technician is
rung at once (or one at a time) through one <Dial>, each leg with a whisper and
press-1-to-accept. Unanswered: the on-call number. Still nobody: a P1 callback
at the front of the queue and a message for the ticket.
"""

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import urls
from app.extensions import db
from app.models import Call, CallOutcome, Technician, Ticket, UrgentStatus, UrgentTransfer
from app.tickets import ticket_store
from callbacks import jobs, limits, urgent
from callbacks.queue import queue_callback
from ivr import catalog
from ivr.calls import current_call, whisper_customer
from ivr.twiml import answer, say_goodbye, speak
from ivr.webhook import hang_up, provider_webhook

bp = Blueprint("urgent", __name__, url_prefix="/voice/urgent")

#: Rounds of one-at-a-time ringing tried within one webhook before giving up on technicians.
MAX_ROUNDS = 10


def put_through(twiml: VoiceResponse, call: Call, ticket: Ticket, oncall_only: bool) -> VoiceResponse:
    """Start the transfer: "We are connecting you to a technician now." and the first round."""
    call.outcome = CallOutcome.PUT_THROUGH
    # A caller ID the desk may not call back is no callback number if nobody takes the call.
    number = call.from_e164 if limits.may_call_back(call.from_e164) else None
    transfer = urgent.start(call.sid, ticket, number, oncall_only)
    speak(twiml, call.language, "urgent_connecting")
    return next_round(twiml, call, transfer)


def next_round(twiml: VoiceResponse, call: Call, transfer: UrgentTransfer) -> VoiceResponse:
    """Ring whoever is next: technicians, the on-call number, or fall back to the queue."""
    for _ in range(MAX_ROUNDS):
        if transfer.status != UrgentStatus.RINGING:
            break
        rung = urgent.ring_technicians(transfer)
        if rung:
            legs = [(technician.phone, str(technician.id)) for technician in rung]
            return dial(twiml, transfer, legs, UrgentStatus.RINGING, current_app.config["URGENT_RING_SECONDS"])
        urgent.nobody_took_it(transfer, UrgentStatus.RINGING)
    if transfer.status == UrgentStatus.ONCALL:
        legs = [(current_app.config["ONCALL_NUMBER"], "oncall")]
        return dial(twiml, transfer, legs, UrgentStatus.ONCALL, current_app.config["ONCALL_RING_SECONDS"])
    return first_in_queue(twiml, call, transfer)


def dial(twiml: VoiceResponse, transfer: UrgentTransfer, legs: list[tuple[str, str]], stage: str, timeout: int):
    """One <Dial> ringing every leg at once; each leg hears the whisper before it is bridged."""
    dial_verb = twiml.dial(
        action=urls.external("urgent.dialed", transfer_id=transfer.id, stage=stage),
        timeout=timeout,
        caller_id=current_app.config["DESK_NUMBER"],
    )
    for number, who in legs:
        dial_verb.number(number, url=urls.external("urgent.whisper", transfer_id=transfer.id, who=who))
    return twiml


def first_in_queue(twiml: VoiceResponse, call: Call, transfer: UrgentTransfer) -> VoiceResponse:
    """Nobody took it: a P1 callback at the front, and a message for the ticket if the caller likes."""
    if transfer.phone:
        callback, created = queue_callback(transfer.ticket, transfer.phone, 1, call.language)
        call.callback_id, call.outcome = callback.id, CallOutcome.QUEUED
        db.session.commit()
        if created:
            jobs.trigger_dispatch()
        speak(twiml, call.language, "urgent_nobody_free")
        speak(twiml, call.language, "urgent_leave_message")
    else:
        # No number to call back on: the message must carry it.
        speak(twiml, call.language, "rescue_voicemail")
    twiml.record(
        action=urls.external("urgent.message", transfer_id=transfer.id),
        finish_on_key="#",
        max_length=current_app.config["RECORDING_MAX_SECONDS"],
    )
    return say_goodbye(twiml, call.language)


def _who() -> tuple[int | None, str]:
    """The technician a leg belongs to (None: the on-call number) and the language they hear."""
    who = request.args.get("who", "")
    technician = db.session.get(Technician, int(who)) if who.isdigit() else None
    language = current_app.config["DEFAULT_LANGUAGE"]
    if technician is not None:
        language = catalog.supported(technician.languages.split(",")[0].strip(), language)
    return (technician.id if technician else None), language


@bp.post("/<int:transfer_id>/whisper")
@provider_webhook(on_error=hang_up)
def whisper(transfer_id: int):
    """A technician (or the on-call number) picked up: who needs help, and press 1 to take it."""
    transfer = urgent.get(transfer_id)
    if transfer is None:
        return answer(hang_up())
    _, language = _who()
    if transfer.status not in (UrgentStatus.RINGING, UrgentStatus.ONCALL):
        return answer(say_goodbye(VoiceResponse(), language, "urgent_taken"))
    ticket = transfer.ticket
    customer = whisper_customer(ticket, transfer.phone, language)
    twiml = VoiceResponse()
    gather = twiml.gather(
        action=urls.external("urgent.accept", transfer_id=transfer_id, who=request.args.get("who", "")),
        num_digits=1,
        timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
    )
    spoken_ticket = catalog.spoken_ticket_number(language, ticket.number)
    speak(gather, language, "urgent_whisper", customer=customer, ticket=spoken_ticket, title=ticket.title)
    speak(gather, language, "urgent_whisper_menu")
    twiml.hangup()  # no key: this leg is not bridged
    return answer(twiml)


@bp.post("/<int:transfer_id>/accept")
@provider_webhook(on_error=hang_up)
def accept(transfer_id: int):
    """Pressed 1: the first to accept is bridged (an empty answer ends the whisper); the rest hang up."""
    transfer = urgent.get(transfer_id)
    if transfer is None:
        return answer(hang_up())
    technician_id, language = _who()
    if request.form.get("Digits") == "1" and urgent.accept(transfer, technician_id):
        return answer(VoiceResponse())
    return answer(say_goodbye(VoiceResponse(), language, "urgent_taken"))


@bp.post("/<int:transfer_id>/dialed")
@provider_webhook(on_error=hang_up)
def dialed(transfer_id: int):
    """The caller's <Dial> ended: the call is over, or the next round rings."""
    transfer = urgent.get(transfer_id)
    call = current_call(request.form)
    if transfer is None:
        return answer(hang_up())
    if transfer.status in (UrgentStatus.CONNECTED, UrgentStatus.ENDED):
        duration = request.form.get("DialCallDuration", "")
        urgent.call_over(transfer, int(duration) if duration.isdigit() else None)
        return answer(say_goodbye(VoiceResponse(), call.language))
    urgent.nobody_took_it(transfer, request.args.get("stage", ""))
    return answer(next_round(VoiceResponse(), call, transfer))


@bp.post("/<int:transfer_id>/message")
@provider_webhook(on_error=hang_up)
def message(transfer_id: int):
    """The caller's message after nobody was free: attached to the ticket."""
    transfer = urgent.get(transfer_id)
    call = current_call(request.form)
    url = request.form.get("RecordingUrl", "")[:500]
    if transfer is not None and url:
        ticket = transfer.ticket
        if not ticket.recording_url:
            ticket.recording_url = url
        ticket_store().add_note(ticket, f"Message left after an urgent call nobody could take: {url}")
    return answer(say_goodbye(VoiceResponse(), call.language))
