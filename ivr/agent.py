"""The technician's leg of an agent-first callback, as the technician hears it.

The engine rings the technician; on answer they hear who is waiting and why
(the whisper) and press 1 to be connected or 2 to pass the callback on. On 1
the customer is dialled with the desk number as caller ID, and the Dial action
tells the engine how the attempt ended.
"""

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import urls
from app.models import AttemptOutcome, CallbackAttempt
from callbacks import attempts, jobs
from ivr import catalog
from ivr.calls import whisper_customer
from ivr.twiml import answer, menu, say_goodbye, speak
from ivr.webhook import hang_up, provider_webhook

bp = Blueprint("agent", __name__, url_prefix="/voice/agent")

technician_webhook = provider_webhook(on_error=hang_up)


def _attempt(attempt_id: int) -> CallbackAttempt | None:
    return attempts.get(attempt_id)


def technician_language(attempt: CallbackAttempt) -> str:
    """The technician hears the whisper in their first language that has a catalog."""
    default = current_app.config["DEFAULT_LANGUAGE"]
    first = attempt.technician.languages.split(",")[0].strip()
    return catalog.supported(first, default)


def whisper(twiml: VoiceResponse, attempt: CallbackAttempt, language: str) -> None:
    """Who is waiting, how urgent, and which ticket: everything needed to decide."""
    callback = attempt.callback
    ticket = callback.ticket
    speak(
        twiml,
        language,
        "whisper",
        customer=whisper_customer(ticket, callback.phone, language),
        priority=callback.priority,
        ticket=catalog.spoken_ticket_number(language, ticket.number),
        title=ticket.title,
    )


@bp.post("/<int:attempt_id>/answer")
@technician_webhook
def technician_answered(attempt_id: int):
    attempt = _attempt(attempt_id)
    language = technician_language(attempt) if attempt else current_app.config["DEFAULT_LANGUAGE"]
    if attempt is None or not attempts.technician_answered(attempt, request.form.get("CallSid", "")):
        return answer(say_goodbye(VoiceResponse(), language, "offer_gone"))
    twiml = VoiceResponse()
    whisper(twiml, attempt, language)
    return answer(
        menu(twiml, language, "whisper_menu", "agent.technician_choice", url_values={"attempt_id": attempt_id})
    )


@bp.post("/<int:attempt_id>/choice")
@technician_webhook
def technician_choice(attempt_id: int):
    attempt = _attempt(attempt_id)
    if attempt is None:
        return answer(hang_up())
    language = technician_language(attempt)
    digits = request.form.get("Digits", "")
    if digits == "1" and attempts.accept(attempt):
        return answer(dial_customer(attempt, language))
    if digits not in ("1", "2") and request.args.get("try") == "0":
        return answer(
            menu(
                VoiceResponse(),
                language,
                "whisper_menu",
                "agent.technician_choice",
                attempt=1,
                url_values={"attempt_id": attempt_id},
            )
        )
    # Pressed 2, or said nothing twice: pass the callback on at once.
    outcome = AttemptOutcome.TECHNICIAN_SKIPPED if digits == "2" else AttemptOutcome.TECHNICIAN_MISSED
    if attempts.technician_declined(attempt, outcome):
        jobs.trigger_dispatch()
    key = "skipped" if digits == "2" else "offer_gone"
    return answer(say_goodbye(VoiceResponse(), language, key))


def dial_customer(attempt: CallbackAttempt, language: str) -> VoiceResponse:
    """Bridge the technician to the customer, showing the desk number."""
    twiml = VoiceResponse()
    speak(twiml, language, "calling_customer")
    dial = twiml.dial(
        caller_id=current_app.config["DESK_NUMBER"],
        action=urls.external("agent.customer_dialed", attempt_id=attempt.id),
        timeout=current_app.config["CUSTOMER_RING_SECONDS"],
    )
    dial.number(
        attempt.callback.phone,
        status_callback=urls.call_status(attempt.id, leg="customer"),
        status_callback_event="completed",
    )
    return twiml


@bp.post("/<int:attempt_id>/dialed")
@technician_webhook
def customer_dialed(attempt_id: int):
    """The Dial action: how the call to the customer went."""
    attempt = _attempt(attempt_id)
    if attempt is None:
        return answer(hang_up())
    language = technician_language(attempt)
    dial_status = request.form.get("DialCallStatus", "failed")
    duration = request.form.get("DialCallDuration", "")
    if attempts.customer_call_ended(attempt, dial_status, int(duration) if duration.isdigit() else None):
        jobs.trigger_dispatch()
    connected = attempts.get(attempt_id).outcome == AttemptOutcome.CONNECTED
    return answer(say_goodbye(VoiceResponse(), language, "call_finished" if connected else "customer_not_reached"))
