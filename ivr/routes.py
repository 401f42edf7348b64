"""The inbound call, step by step, as the caller hears it.

incoming -> main menu -> (ticket number -> ticket menu) or (record the problem
-> can you work? -> who is affected?) -> ticket -> callback number -> queued.
Each step is a provider webhook; what the caller said is kept on the call row,
and every side effect (ticket, callback) is keyed so a replay repeats nothing.
"""

import logging

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import phone
from app.extensions import db
from app.models import Call, Outcome, Ticket
from app.telephony import public_url
from app.tickets import ticket_store
from callbacks import attempts, jobs, rescue
from callbacks.queue import position, queue_callback
from ivr import catalog
from ivr.calls import call_ended, current_call
from ivr.twiml import answer, attempt_number, menu, say_goodbye, speak
from ivr.urgency import IMPACTS, URGENCIES, priority_for
from ivr.webhook import hang_up, provider_webhook

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__, url_prefix="/voice")

#: Misses allowed when keying a ticket number before going on as a new problem.
TICKET_NUMBER_MISSES = 3


def rescued_call() -> VoiceResponse:
    """What a caller hears when a step failed: an apology and the safest next step.

    Needs no database: the callback promise goes to Redis (or a spool file).
    """
    language = current_app.config["DEFAULT_LANGUAGE"]
    caller = phone.normalise(request.form.get("From"), current_app.config["PHONE_REGION"])
    twiml = VoiceResponse()
    speak(twiml, language, "technical_problem")
    if caller is None:
        speak(twiml, language, "rescue_voicemail")
        twiml.record(
            action=public_url("/voice/goodbye"),
            finish_on_key="#",
            max_length=current_app.config["RECORDING_MAX_SECONDS"],
            recording_status_callback=public_url("/voice/voicemail"),
        )
        return say_goodbye(twiml, language)
    rescue.save_for_later(request.form.get("CallSid", ""), caller, language)
    return say_goodbye(twiml, language, "rescue_callback", phone=phone.spoken(caller))


caller_webhook = provider_webhook(on_error=rescued_call)


def choice(options: str, default: str) -> str | None:
    """The key pressed among ``options``; None asks for the repeat, after which ``default`` holds."""
    digits = request.form.get("Digits", "")
    if len(digits) == 1 and digits in options:
        return digits
    return default if attempt_number(request.args.get("try")) >= 1 else None


def repeat(call: Call, prompt: str, action: str, **values: object):
    return answer(menu(VoiceResponse(), call.language, prompt, action, attempt=1, **values))


# --- Opening: welcome and main menu -----------------------------------------------------------


@bp.post("/incoming")
@caller_webhook
def incoming():
    call = current_call(request.form)
    twiml = VoiceResponse()
    speak(twiml, call.language, "welcome")
    if call.contact is not None:
        if call.contact.company is not None:
            speak(twiml, call.language, "greeting_known", name=call.contact.name, company=call.contact.company.name)
        else:
            speak(twiml, call.language, "greeting_known_no_company", name=call.contact.name)
    return answer(menu(twiml, call.language, "main_menu", "/voice/main-menu"))


@bp.post("/main-menu")
@caller_webhook
def main_menu():
    call = current_call(request.form)
    key = choice("12", default="2")
    if key is None:
        return repeat(call, "main_menu", "/voice/main-menu")
    if key == "1":
        return answer(ask_ticket_number(VoiceResponse(), call, misses=0))
    return answer(ask_problem(call))


# --- Existing ticket ------------------------------------------------------------------------------


def ask_ticket_number(twiml: VoiceResponse, call: Call, misses: int) -> VoiceResponse:
    gather = twiml.gather(
        action=public_url(f"/voice/ticket-number?misses={misses}"),
        finish_on_key="#",
        timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
    )
    speak(gather, call.language, "enter_ticket")
    twiml.redirect(public_url(f"/voice/ticket-number?misses={misses}"))
    return twiml


def ticket_from_keys(digits: str) -> str | None:
    """The 12 keyed digits of ``T<yyyymmdd>.<nnnn>`` as a ticket number."""
    return f"T{digits[:8]}.{digits[8:]}" if len(digits) == 12 and digits.isdigit() else None


@bp.post("/ticket-number")
@caller_webhook
def ticket_number():
    call = current_call(request.form)
    number = ticket_from_keys(request.form.get("Digits", ""))
    ticket = ticket_store().find(number) if number else None
    if ticket is None:
        misses = (int(request.args.get("misses", "0")) if request.args.get("misses", "").isdigit() else 0) + 1
        if misses >= TICKET_NUMBER_MISSES:
            return answer(ask_problem(call))
        twiml = VoiceResponse()
        speak(twiml, call.language, "ticket_not_found")
        return answer(ask_ticket_number(twiml, call, misses))
    call.ticket_id = ticket.id
    db.session.commit()
    return answer(read_ticket(VoiceResponse(), call, ticket))


def read_ticket(twiml: VoiceResponse, call: Call, ticket: Ticket) -> VoiceResponse:
    """Details only for a known contact of the ticket's company; anyone else hears the status."""
    spoken_number = catalog.spoken_ticket_number(call.language, ticket.number)
    status = catalog.status_name(call.language, ticket.status)
    own_company = call.contact is not None and ticket.company_id == call.contact.company_id
    if own_company:
        speak(twiml, call.language, "ticket_found", ticket=spoken_number, title=ticket.title, status=status)
    else:
        speak(twiml, call.language, "ticket_status_only", ticket=spoken_number, status=status)
    return menu(twiml, call.language, "ticket_menu", "/voice/ticket-menu")


@bp.post("/ticket-menu")
@caller_webhook
def ticket_menu():
    call = current_call(request.form)
    key = choice("123", default="1")
    if key is None:
        return repeat(call, "ticket_menu", "/voice/ticket-menu")
    if key == "3":
        return answer(menu(VoiceResponse(), call.language, "main_menu", "/voice/main-menu"))
    if key == "2":
        call.urgency = "cannot_work"
        db.session.commit()
        return answer(menu(VoiceResponse(), call.language, "impact_menu", "/voice/impact"))
    return answer(offer_callback_number(VoiceResponse(), call))


# --- New problem: description, then urgency ------------------------------------------------------


def ask_problem(call: Call) -> VoiceResponse:
    twiml = VoiceResponse()
    speak(twiml, call.language, "record_problem")
    twiml.record(
        action=public_url("/voice/recorded"),
        finish_on_key="#",
        max_length=current_app.config["RECORDING_MAX_SECONDS"],
        play_beep=True,
        recording_status_callback=public_url("/voice/recording"),
    )
    # The provider skips the action of an empty recording and goes on here.
    twiml.redirect(public_url("/voice/recorded"))
    return twiml


@bp.post("/recorded")
@caller_webhook
def recorded():
    call = current_call(request.form)
    if request.form.get("RecordingUrl"):
        call.recording_url = request.form["RecordingUrl"][:500]
        db.session.commit()
    if request.form.get("Digits") == "hangup":
        # The caller hung up while describing the problem: keep what they said.
        open_ticket(call)
        return answer(hang_up())
    return answer(menu(VoiceResponse(), call.language, "urgency_menu", "/voice/urgency"))


@bp.post("/urgency")
@caller_webhook
def urgency():
    call = current_call(request.form)
    key = choice("12", default="1")
    if key is None:
        return repeat(call, "urgency_menu", "/voice/urgency")
    call.urgency = URGENCIES[key]
    db.session.commit()
    return answer(menu(VoiceResponse(), call.language, "impact_menu", "/voice/impact"))


@bp.post("/impact")
@caller_webhook
def impact():
    call = current_call(request.form)
    key = choice("123", default="1")
    if key is None:
        return repeat(call, "impact_menu", "/voice/impact")
    call.impact = IMPACTS[key]
    db.session.commit()
    ticket = open_ticket(call)
    twiml = VoiceResponse()
    if ticket.origin_call_sid == call.sid:
        speak(twiml, call.language, "ticket_created", ticket=catalog.spoken_ticket_number(call.language, ticket.number))
    return answer(offer_callback_number(twiml, call))


def open_ticket(call: Call) -> Ticket:
    """The call's ticket: a new one, or the existing ticket raised to the priority just given."""
    priority = priority_for(call.urgency, call.impact)
    store = ticket_store()
    if call.ticket is not None:
        if priority < call.ticket.priority:
            call.ticket.priority = priority
            store.add_note(
                call.ticket, f"Caller reports by phone: {call.urgency}, {call.impact}; priority P{priority}."
            )
        return call.ticket
    ticket = store.create(
        origin_call_sid=call.sid,
        title="Problem reported by phone",
        caller_phone=call.from_e164,
        contact_id=call.contact_id,
        company_id=call.contact.company_id if call.contact else None,
        priority=priority,
        urgency=call.urgency,
        impact=call.impact,
        recording_url=call.recording_url,
    )
    call.ticket_id = ticket.id
    db.session.commit()
    return ticket


# --- Callback number and the queue ----------------------------------------------------------------


def offer_callback_number(twiml: VoiceResponse, call: Call, attempt: int = 0) -> VoiceResponse:
    """Confirm the caller ID (or a keyed number); ask for one when there is none."""
    number = call.callback_phone or call.from_e164
    if number is None:
        return ask_number(twiml, call, attempt=0)
    return menu(twiml, call.language, "confirm_number", "/voice/confirm-number", attempt, phone=phone.spoken(number))


def ask_number(twiml: VoiceResponse, call: Call, attempt: int) -> VoiceResponse:
    return menu(twiml, call.language, "enter_number", "/voice/keyed-number", attempt, num_digits=None)


@bp.post("/confirm-number")
@caller_webhook
def confirm_number():
    call = current_call(request.form)
    key = choice("12", default="1")
    if key is None:
        return answer(offer_callback_number(VoiceResponse(), call, attempt=1))
    if key == "2":
        return answer(ask_number(VoiceResponse(), call, attempt=0))
    call.callback_phone = call.callback_phone or call.from_e164
    db.session.commit()
    return answer(finish_in_queue(call))


@bp.post("/keyed-number")
@caller_webhook
def keyed_number():
    call = current_call(request.form)
    number = phone.from_keypad(request.form.get("Digits"), current_app.config["PHONE_REGION"])
    if number is not None:
        call.callback_phone = number
        db.session.commit()
        return answer(offer_callback_number(VoiceResponse(), call))
    twiml = VoiceResponse()
    speak(twiml, call.language, "invalid_number")
    if attempt_number(request.args.get("try")) == 0:
        return answer(ask_number(twiml, call, attempt=1))
    if call.from_e164 is not None:
        return answer(offer_callback_number(twiml, call, attempt=1))
    ticket = open_ticket(call)
    ticket_store().add_note(ticket, "The caller could not give a callback number.")
    speak(twiml, call.language, "no_callback_number")
    return answer(say_goodbye(twiml, call.language))


def finish_in_queue(call: Call) -> VoiceResponse:
    """Queue the callback (once per caller) and tell the caller their place."""
    ticket = open_ticket(call)
    callback, created = queue_callback(ticket, call.callback_phone, ticket.priority, call.language)
    call.callback_id = callback.id
    db.session.commit()
    if created:
        jobs.trigger_dispatch()
    twiml = VoiceResponse()
    if callback.priority == 1:
        speak(twiml, call.language, "urgent_front_of_queue")
    speak(twiml, call.language, "queued", position=position(callback))
    return say_goodbye(twiml, call.language)


# --- Provider callbacks: status, recordings, fallback ---------------------------------------------


#: CallStatus values that mean the call is over.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@bp.post("/status")
@provider_webhook(on_error=hang_up)
def status():
    """Status callbacks of every call: inbound calls, technician legs and customer legs."""
    form = request.form
    call_status = form.get("CallStatus", "")
    if call_status not in FINAL_CALL_STATUSES:
        return answer(hang_up())
    attempt_id = request.args.get("attempt", "")
    if not attempt_id.isdigit():
        call_ended(form.get("CallSid", ""), call_status, form.get("CallDuration"))
        return answer(hang_up())
    attempt = attempts.get(int(attempt_id))
    if attempt is None:
        return answer(hang_up())
    if request.args.get("leg") == "customer":
        duration = form.get("CallDuration", "")
        moved_on = attempts.customer_call_ended(attempt, call_status, int(duration) if duration.isdigit() else None)
    else:
        # Rang out, refused, or answered and hung up before choosing: a missed offer.
        moved_on = attempts.technician_declined(attempt, Outcome.TECHNICIAN_MISSED)
    if moved_on:
        jobs.trigger_dispatch()
    return answer(hang_up())


@bp.post("/recording")
@provider_webhook(on_error=hang_up)
def recording():
    """The recording of a problem description is ready: keep its URL on the call and ticket."""
    call = current_call(request.form)
    url = request.form.get("RecordingUrl", "")[:500] or None
    if url:
        call.recording_url = url
        if call.ticket is not None and not call.ticket.recording_url:
            call.ticket.recording_url = url
        db.session.commit()
    return answer(hang_up())


@bp.post("/fallback")
@caller_webhook
def fallback():
    """The provider's Fallback URL: the primary answer failed, so take the safe path at once."""
    return answer(rescued_call())


@bp.post("/voicemail")
@provider_webhook(on_error=hang_up)
def voicemail():
    """A voicemail left on the safe path: it becomes a ticket when the database is back."""
    url = request.form.get("RecordingUrl", "")[:500]
    if url:
        rescue.save_for_later(request.form.get("CallSid", ""), None, current_app.config["DEFAULT_LANGUAGE"], url)
    return answer(hang_up())


@bp.post("/goodbye")
@provider_webhook(on_error=hang_up)
def goodbye():
    return answer(say_goodbye(VoiceResponse(), current_app.config["DEFAULT_LANGUAGE"]))
