"""Urgent calls put through live, as the caller and the technicians hear them (DESIGN §5).

The ticket is opened and its number said first; then the caller holds in a queue of
their own (<Enqueue>) while every free technician (or one at a time) is rung by a
call of their own, machine detection on. The first to press 1 is answered
<Dial><Queue> and takes the caller; the other legs are ended. Nobody: the on-call
number the same way. Still nobody: a P1 callback at the front of the queue and a
message for the ticket. Every step may be delivered twice: a replay rings nobody
again, releases nobody and opens no second callback.
"""

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import phone, telephony, urls
from app.extensions import db
from app.models import Call, CallOutcome, Ticket, UrgentStatus, UrgentTransfer
from app.tickets import ticket_store
from callbacks import jobs, limits, rescue, urgent
from callbacks.queue import queue_callback
from ivr import catalog
from ivr.calls import current_call, whisper_customer
from ivr.twiml import answer, say_goodbye, speak
from ivr.webhook import caller_webhook, hang_up, provider_webhook, rescued_call

bp = Blueprint("urgent", __name__, url_prefix="/voice/urgent")

#: Silence after the reassurance in the wait document: the caller hears it about every 20 s.
HOLD_PAUSE_SECONDS = 15


def put_through(twiml: VoiceResponse, call: Call, ticket: Ticket, oncall_only: bool) -> VoiceResponse:
    """Start the transfer: "We are connecting you to a technician now.", the legs rung, the caller on hold.

    A replayed request finds the transfer begun and only answers where it stands.
    """
    call.outcome = CallOutcome.PUT_THROUGH
    # A caller ID the desk may not call back is no callback number if nobody takes the call.
    number = call.from_e164 if limits.may_call_back(call.from_e164) else None
    begun = urgent.for_call(call.sid)
    transfer = begun or urgent.start(call.sid, ticket, number, oncall_only)
    if begun is None:
        ring_first_round(transfer)
    speak(twiml, call.language, "urgent_connecting")
    if transfer.status in urgent.RINGING_STAGES:
        return hold_in_queue(twiml, transfer)
    return first_in_queue(twiml, call, transfer)


def ring_first_round(transfer: UrgentTransfer) -> None:
    """Ring the free technicians (or, out of hours, the on-call number); nobody rung moves it on."""
    if transfer.status == UrgentStatus.RINGING:
        urgent.ring_technicians(transfer)
        if not urgent.place_legs(transfer):
            urgent.nobody_took_it(transfer, UrgentStatus.RINGING, caller_on_hold=False)
    elif transfer.status == UrgentStatus.ONCALL and not urgent.ring_oncall(transfer):
        urgent.nobody_took_it(transfer, UrgentStatus.ONCALL, caller_on_hold=False)


def hold_in_queue(twiml: VoiceResponse, transfer: UrgentTransfer) -> VoiceResponse:
    """<Enqueue> in the transfer's own queue; the action hears why the caller left it."""
    twiml.enqueue(
        urgent.queue_name(transfer),
        wait_url=urls.external("urgent.hold", transfer_id=transfer.id),
        action=urls.external("urgent.left", transfer_id=transfer.id),
    )
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


# -- the caller's leg ------------------------------------------------------------------------------


def leave_queue() -> VoiceResponse:
    """The wait document's safe answer: out of the queue, where the action takes a callback."""
    twiml = VoiceResponse()
    twiml.leave()
    return twiml


@bp.post("/<int:transfer_id>/hold")
@provider_webhook(on_error=leave_queue)
def hold(transfer_id: int):
    """The wait document, fetched again each time it ends: reassurance, or out of the queue."""
    transfer = urgent.get(transfer_id)
    if transfer is None:
        return answer(leave_queue())
    status = urgent.advance(transfer)
    if status not in (*urgent.RINGING_STAGES, UrgentStatus.CONNECTED):
        return answer(leave_queue())
    twiml = VoiceResponse()
    speak(twiml, current_call(request.form).language, "urgent_hold")
    twiml.pause(length=HOLD_PAUSE_SECONDS)
    return answer(twiml)


@bp.post("/<int:transfer_id>/left")
@caller_webhook
def left(transfer_id: int):
    """The caller left the queue: talked (bridged), hung up, or nobody took the call."""
    transfer = urgent.get(transfer_id)
    call = current_call(request.form)
    result = request.form.get("QueueResult", "")
    if transfer is None:
        return answer(rescued_call())
    if result == "hangup":
        urgent.caller_hung_up(transfer)
        return answer(hang_up())
    if result == "bridged" or transfer.status in (UrgentStatus.CONNECTED, UrgentStatus.ENDED):
        return answer(say_goodbye(VoiceResponse(), call.language))
    urgent.give_up(transfer)
    return answer(first_in_queue(VoiceResponse(), call, transfer))


@bp.post("/<int:transfer_id>/nobody-free")
@caller_webhook
def nobody_free(transfer_id: int):
    """Taken off hold through the REST API: nobody took the call."""
    transfer = urgent.get(transfer_id)
    call = current_call(request.form)
    if transfer is None:
        return answer(rescued_call())
    if transfer.status == UrgentStatus.CONNECTED:
        return answer(hold_in_queue(VoiceResponse(), transfer))
    urgent.give_up(transfer)
    return answer(first_in_queue(VoiceResponse(), call, transfer))


def message_rescued() -> VoiceResponse:
    """The message could not be stored: the spool keeps its recording URL with the callback promise."""
    caller = phone.normalise(request.form.get("From"), current_app.config["PHONE_REGION"])
    language = current_app.config["DEFAULT_LANGUAGE"]
    url = request.form.get("RecordingUrl", "")[:500] or None
    rescue.save_for_later(request.form.get("CallSid", ""), caller, language, url)
    return say_goodbye(VoiceResponse(), language)


@bp.post("/<int:transfer_id>/message")
@provider_webhook(on_error=message_rescued)
def message(transfer_id: int):
    """The caller's message after nobody was free: attached to the ticket (once, however often posted)."""
    transfer = urgent.get(transfer_id)
    call = current_call(request.form)
    url = request.form.get("RecordingUrl", "")[:500]
    if transfer is not None and url:
        ticket = transfer.ticket
        if not any(url in note.body for note in ticket.notes):
            ticket.recording_url = ticket.recording_url or url
            db.session.commit()
            ticket_store().add_note(ticket, f"Message left after an urgent call nobody could take: {url}")
    return answer(say_goodbye(VoiceResponse(), call.language))


# -- the technicians' legs -------------------------------------------------------------------------


def _leg_language(ring) -> str:
    language = current_app.config["DEFAULT_LANGUAGE"]
    if ring is not None:
        language = catalog.supported(ring.technician.languages.split(",")[0].strip(), language)
    return language


@bp.post("/<int:transfer_id>/whisper/<leg>")
@provider_webhook(on_error=hang_up)
def whisper(transfer_id: int, leg: str):
    """A leg picked up: a machine is hung up on; a person hears who needs help and press 1 to take it."""
    transfer = urgent.get(transfer_id)
    if transfer is None or (leg != urgent.ONCALL_LEG and urgent.ring(transfer_id, leg) is None):
        return answer(hang_up())
    ring = urgent.ring(transfer_id, leg)
    language = _leg_language(ring)
    if telephony.is_machine(request.form.get("AnsweredBy")):
        urgent.leg_over(transfer, ring, machine=True)
        return answer(hang_up())
    if not urgent.leg_answered(transfer, ring, request.form.get("CallSid", "")):
        return answer(say_goodbye(VoiceResponse(), language, "urgent_taken"))
    ticket = transfer.ticket
    customer = whisper_customer(ticket, transfer.phone, language)
    twiml = VoiceResponse()
    gather = twiml.gather(
        action=urls.external("urgent.accept", transfer_id=transfer_id, leg=leg),
        num_digits=1,
        timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
    )
    spoken_ticket = catalog.spoken_ticket_number(language, ticket.number)
    speak(gather, language, "urgent_whisper", customer=customer, ticket=spoken_ticket, title=ticket.title)
    speak(gather, language, "urgent_whisper_menu")
    twiml.hangup()  # no key: this leg is not bridged
    return answer(twiml)


@bp.post("/<int:transfer_id>/accept/<leg>")
@provider_webhook(on_error=hang_up)
def accept(transfer_id: int, leg: str):
    """Pressed 1: the first to accept takes the caller out of the queue; the others hear it was taken."""
    transfer = urgent.get(transfer_id)
    ring = urgent.ring(transfer_id, leg)
    if transfer is None or (leg != urgent.ONCALL_LEG and ring is None):
        return answer(hang_up())
    language = _leg_language(ring)
    technician_id = ring.technician_id if ring is not None else None
    if request.form.get("Digits") == "1" and urgent.accept(transfer, technician_id):
        twiml = VoiceResponse()
        dial = twiml.dial(
            action=urls.external("urgent.bridged", transfer_id=transfer_id, leg=leg),
            timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
        )
        dial.queue(urgent.queue_name(transfer))
        return answer(twiml)
    return answer(say_goodbye(VoiceResponse(), language, "urgent_taken"))


@bp.post("/<int:transfer_id>/taken")
@provider_webhook(on_error=hang_up)
def taken(transfer_id: int):
    """A leg still in its whisper when a colleague took the call (sent here through the REST API)."""
    ring = urgent.ring(transfer_id, request.args.get("leg", ""))
    return answer(say_goodbye(VoiceResponse(), _leg_language(ring), "urgent_taken"))


@bp.post("/<int:transfer_id>/bridged/<leg>")
@provider_webhook(on_error=hang_up)
def bridged(transfer_id: int, leg: str):
    """The winner's <Dial><Queue> ended: the call is over (the technician goes to wrap-up)."""
    transfer = urgent.get(transfer_id)
    if transfer is not None:
        duration = request.form.get("DialCallDuration", "")
        urgent.call_over(transfer, int(duration) if duration.isdigit() else None)
    return answer(hang_up())


@bp.post("/<int:transfer_id>/leg-status/<leg>")
@provider_webhook(on_error=hang_up)
def leg_status(transfer_id: int, leg: str):
    """A leg's final status: its technician is free again, and the round may be over."""
    transfer = urgent.get(transfer_id)
    if transfer is None or request.form.get("CallStatus") not in telephony.FINAL_CALL_STATUSES:
        return answer(hang_up())
    ring = urgent.ring(transfer_id, leg)
    winner = transfer.status == UrgentStatus.CONNECTED and (
        (ring is not None and ring.technician_id == transfer.technician_id)
        or (ring is None and transfer.taken_by_oncall)
    )
    if winner:
        # The Dial action normally ends it first; this covers one that never came.
        duration = request.form.get("CallDuration", "")
        urgent.call_over(transfer, int(duration) if duration.isdigit() else None)
    elif ring is not None or leg == urgent.ONCALL_LEG:
        urgent.leg_over(transfer, ring)
    return answer(hang_up())
