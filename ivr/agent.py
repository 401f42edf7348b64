"""The technician's leg of an agent-first callback, as the technician hears it.

The engine rings the technician (a machine answering is a missed offer); on answer
they hear who is waiting and why (the whisper) and press 1 to be connected or 2 to
pass the callback on. On 1 the customer is dialled with the desk number as caller
ID, machine detection on and ``*`` to hang up the customer. When the customer leg
ends the technician stays on the line for the after-call menu: spoke with the
customer, voicemail or nobody, or a wrong number.
"""

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import telephony, urls
from app.models import AttemptOutcome, CallbackAttempt
from callbacks import attempts, jobs
from ivr import catalog
from ivr.calls import whisper_customer
from ivr.twiml import answer, menu, say_goodbye, speak
from ivr.webhook import choice, hang_up, provider_webhook

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
    if attempt is not None and telephony.is_machine(request.form.get("AnsweredBy")):
        # The technician's voicemail: a missed offer, passed on at once.
        if attempts.technician_declined(attempt, AttemptOutcome.TECHNICIAN_MISSED):
            jobs.trigger_dispatch()
        return answer(hang_up())
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
    """Bridge the technician to the customer, showing the desk number; ``*`` ends the customer leg."""
    twiml = VoiceResponse()
    speak(twiml, language, "calling_customer")
    dial = twiml.dial(
        caller_id=current_app.config["DESK_NUMBER"],
        action=urls.external("agent.customer_dialed", attempt_id=attempt.id),
        timeout=current_app.config["CUSTOMER_RING_SECONDS"],
        hangup_on_star=True,
    )
    dial.number(
        attempt.callback.phone,
        status_callback=urls.call_status(attempt.id, leg="customer"),
        status_callback_event="completed",
        machine_detection="Enable",
        amd_status_callback=urls.external("agent.customer_answered_by", attempt_id=attempt.id),
    )
    return twiml


@bp.post("/<int:attempt_id>/answered-by")
@technician_webhook
def customer_answered_by(attempt_id: int):
    """Answering-machine detection on the customer's leg: a machine is never a customer reached."""
    attempt = _attempt(attempt_id)
    answered_by = request.form.get("AnsweredBy", "")
    if attempt is not None and answered_by:
        attempts.customer_answered_by(attempt, answered_by)
    return answer(hang_up())


@bp.post("/<int:attempt_id>/dialed")
@technician_webhook
def customer_dialed(attempt_id: int):
    """The Dial action: not answered ends the attempt; answered, the technician says how it went."""
    attempt = _attempt(attempt_id)
    if attempt is None:
        return answer(hang_up())
    language = technician_language(attempt)
    dial_status = request.form.get("DialCallStatus", "failed")
    duration = request.form.get("DialCallDuration", "")
    talk_seconds = int(duration) if duration.isdigit() else None
    if dial_status in attempts.ANSWERED_STATUSES:
        attempts.customer_call_ended(attempt, dial_status, talk_seconds)
        return answer(after_call_menu(VoiceResponse(), attempt, language))
    if attempts.customer_call_ended(attempt, dial_status, talk_seconds):
        jobs.trigger_dispatch()
    return answer(say_goodbye(VoiceResponse(), language, "customer_not_reached"))


def after_call_menu(twiml: VoiceResponse, attempt: CallbackAttempt, language: str, repeat: int = 0) -> VoiceResponse:
    """ "If you spoke with the customer, press 1. …voicemail or nobody, press 2. …wrong number, press 3." """
    url_values = {"attempt_id": attempt.id}
    return menu(twiml, language, "after_call_menu", "agent.after_call", attempt=repeat, url_values=url_values)


#: The after-call menu's keys; no key is the default (connected, unless a machine was detected).
AFTER_CALL_OUTCOMES = {
    "1": AttemptOutcome.CONNECTED,
    "2": AttemptOutcome.VOICEMAIL,
    "3": AttemptOutcome.WRONG_NUMBER,
    "0": None,
}
AFTER_CALL_PROMPTS = {
    AttemptOutcome.CONNECTED: "call_finished",
    AttemptOutcome.WRONG_NUMBER: "wrong_number_noted",
}


@bp.post("/<int:attempt_id>/after-call")
@technician_webhook
def after_call(attempt_id: int):
    """The technician's answer to the after-call menu (said twice, then the default)."""
    attempt = _attempt(attempt_id)
    if attempt is None:
        return answer(hang_up())
    language = technician_language(attempt)
    key = choice("123", default="0")
    if key is None:
        return answer(after_call_menu(VoiceResponse(), attempt, language, repeat=1))
    if attempts.after_call(attempt, AFTER_CALL_OUTCOMES[key]):
        jobs.trigger_dispatch()
    outcome = attempts.get(attempt_id).outcome
    return answer(say_goodbye(VoiceResponse(), language, AFTER_CALL_PROMPTS.get(outcome, "customer_not_reached")))
