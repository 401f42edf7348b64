"""The inbound call, step by step, as the caller hears it.

incoming -> main menu -> (ticket number -> ticket menu) or (record the problem
-> can you work? -> who is affected?) -> ticket -> callback number -> queued.
Each step is a provider webhook; what the caller said is kept on the call row,
and every side effect (ticket, callback) is keyed so a replay repeats nothing.
"""

import logging
from datetime import datetime

from flask import Blueprint, current_app, request
from sqlalchemy import select, update
from twilio.twiml.voice_response import VoiceResponse

from app import opening_hours, phone
from app.contracts import includes_out_of_hours
from app.extensions import db
from app.models import Call, Callback, CallbackStatus, Outcome, Ticket
from app.notifications import queue_text
from app.telephony import public_url
from app.tickets import ticket_store
from callbacks import attempts, jobs, lifecycle, rescue
from callbacks.estimate import wait_prompt
from callbacks.queue import open_callback_for, position, queue_callback
from ivr import catalog, urgent
from ivr.calls import call_ended, current_call
from ivr.twiml import answer, attempt_number, menu, say_goodbye, speak
from ivr.urgency import IMPACTS, URGENCIES, priority_for
from ivr.webhook import hang_up, provider_webhook

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__, url_prefix="/voice")

#: Misses allowed when keying a ticket number before going on as a new problem.
TICKET_NUMBER_MISSES = 3
#: Keys of the language menu.
LANGUAGE_KEYS = {"1": "nl", "2": "fr", "3": "en"}
#: Longest ticket title taken from a transcript.
TITLE_LENGTH = 80


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


# --- Opening: language, welcome, hours, an open callback, main menu -----------------------------


@bp.post("/incoming")
@caller_webhook
def incoming():
    call = current_call(request.form)
    if call.contact is not None and call.contact.language in catalog.languages():
        return answer(greet(VoiceResponse(), call))
    return answer(language_menu(VoiceResponse(), attempt=0))


def language_menu(twiml: VoiceResponse, attempt: int) -> VoiceResponse:
    """Each option in its own language and voice: "Voor Nederlands, druk 1. Pour le français…"."""
    url = public_url(f"/voice/language?try={attempt}")
    gather = twiml.gather(action=url, num_digits=1, timeout=current_app.config["GATHER_TIMEOUT_SECONDS"])
    for language in LANGUAGE_KEYS.values():
        speak(gather, language, "language_choice")
    twiml.redirect(url)
    return twiml


@bp.post("/language")
@caller_webhook
def language():
    call = current_call(request.form)
    key = choice("".join(LANGUAGE_KEYS), default="")
    if key is None:
        return answer(language_menu(VoiceResponse(), attempt=1))
    call.language = LANGUAGE_KEYS.get(key, current_app.config["DEFAULT_LANGUAGE"])
    db.session.commit()
    return answer(greet(VoiceResponse(), call))


def greet(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    """Welcome (by name for a known contact), then what this caller needs first."""
    speak(twiml, call.language, "welcome")
    if call.contact is not None:
        if call.contact.company is not None:
            speak(twiml, call.language, "greeting_known", name=call.contact.name, company=call.contact.company.name)
        else:
            speak(twiml, call.language, "greeting_known_no_company", name=call.contact.name)
    waiting_callback = open_callback_for(call.from_e164) if call.from_e164 else None
    if waiting_callback is not None:
        return open_callback_menu(twiml, call, waiting_callback, attempt=0)
    return main_menu_or_closed(twiml, call)


def main_menu_or_closed(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    if not opening_hours.is_open():
        return closed(twiml, call)
    return menu(twiml, call.language, "main_menu", "/voice/main-menu")


@bp.post("/main-menu")
@caller_webhook
def main_menu():
    call = current_call(request.form)
    key = choice("12", default="2")
    if key is None:
        return repeat(call, "main_menu", "/voice/main-menu")
    if key == "1":
        return answer(ask_ticket_number(VoiceResponse(), call, misses=0))
    return answer(ask_problem(VoiceResponse(), call))


# --- A caller who is already in the queue ---------------------------------------------------------


def open_callback_menu(twiml: VoiceResponse, call: Call, callback: Callback, attempt: int) -> VoiceResponse:
    """Keep your place, cancel, or another question (cancel only while still waiting)."""
    if callback.status == CallbackStatus.WAITING:
        return menu(
            twiml, call.language, "open_callback_menu", "/voice/open-callback", attempt, position=position(callback)
        )
    return menu(twiml, call.language, "open_callback_soon_menu", "/voice/open-callback", attempt)


@bp.post("/open-callback")
@caller_webhook
def open_callback():
    call = current_call(request.form)
    callback = open_callback_for(call.from_e164) if call.from_e164 else None
    if callback is None:
        return answer(main_menu_or_closed(VoiceResponse(), call))
    key = choice("123" if callback.status == CallbackStatus.WAITING else "13", default="1")
    if key is None:
        return answer(open_callback_menu(VoiceResponse(), call, callback, attempt=1))
    twiml = VoiceResponse()
    if key == "3":
        return answer(main_menu_or_closed(twiml, call))
    if key == "2":
        cancelled = lifecycle.cancel(callback.id)
        db.session.commit()
        if cancelled:
            ticket_store().add_note(callback.ticket, "The caller cancelled the callback by phone.")
        return answer(
            say_goodbye(twiml, call.language, "callback_cancelled" if cancelled else "callback_not_cancelled")
        )
    speak(twiml, call.language, "keep_place")
    return answer(say_goodbye(twiml, call.language))


# --- Closed: a message for everyone, the urgent line for contracts that include it -----------------


def closed(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    speak(twiml, call.language, "closed", when=spoken_when(call.language, opening_hours.next_opening()))
    company = call.contact.company if call.contact else None
    if company is not None and includes_out_of_hours(company.contract):
        return menu(twiml, call.language, "closed_urgent_menu", "/voice/closed-menu")
    return ask_problem(twiml, call)


@bp.post("/closed-menu")
@caller_webhook
def closed_menu():
    call = current_call(request.form)
    key = choice("12", default="2")
    if key is None:
        return repeat(call, "closed_urgent_menu", "/voice/closed-menu")
    if key == "1":
        call.urgent_line = True
        call.urgency = "cannot_work"
        db.session.commit()
        return answer(menu(VoiceResponse(), call.language, "impact_menu", "/voice/impact"))
    return answer(ask_problem(VoiceResponse(), call))


def spoken_when(language: str, moment: datetime | None) -> str:
    """ "today at 8:00", "tomorrow at 8:00", "on Monday at 8:00" — in the caller's language."""
    if moment is None:
        return catalog.when(language, "soon")
    today = opening_hours.local().date()
    days_ahead = (moment.date() - today).days
    kind = {0: "today", 1: "tomorrow"}.get(days_ahead, "weekday")
    return catalog.when(
        language, kind, day=catalog.weekday(language, moment.weekday()), hour=moment.hour, minute=moment.minute
    )


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
            return answer(ask_problem(VoiceResponse(), call))
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
        return answer(main_menu_or_closed(VoiceResponse(), call))
    if key == "2":
        call.urgency = "cannot_work"
        db.session.commit()
        return answer(menu(VoiceResponse(), call.language, "impact_menu", "/voice/impact"))
    return answer(offer_callback_number(VoiceResponse(), call))


# --- New problem: description, then urgency ------------------------------------------------------


def ask_problem(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    speak(twiml, call.language, "record_problem")
    # The provider transcribes English only; other languages keep the recording alone.
    transcription = {"transcribe": True, "transcribe_callback": public_url("/voice/transcription")}
    twiml.record(
        action=public_url("/voice/recorded"),
        finish_on_key="#",
        max_length=current_app.config["RECORDING_MAX_SECONDS"],
        play_beep=True,
        recording_status_callback=public_url("/voice/recording"),
        **(transcription if call.language == "en" else {}),
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
    desk_open = opening_hours.is_open()
    if (desk_open and ticket.priority == 1) or (not desk_open and call.urgent_line):
        return answer(urgent.put_through(twiml, call, ticket, oncall_only=not desk_open))
    return answer(offer_callback_number(twiml, call))


def open_ticket(call: Call) -> Ticket:
    """The call's ticket: a new one, or the existing ticket raised to the priority just given."""
    priority = priority_for(call.urgency, call.impact)
    store = ticket_store()
    if call.ticket is not None:
        # Only what the caller just said can raise an existing ticket's priority.
        if call.urgency and call.impact and priority < call.ticket.priority:
            call.ticket.priority = priority
            store.add_note(
                call.ticket, f"Caller reports by phone: {call.urgency}, {call.impact}; priority P{priority}."
            )
        return call.ticket
    ticket = store.create(
        origin_call_sid=call.sid,
        title=headline(call.transcript) if call.transcript else catalog.message(call.language, "ticket_title"),
        caller_phone=call.from_e164,
        contact_id=call.contact_id,
        company_id=call.contact.company_id if call.contact else None,
        priority=priority,
        urgency=call.urgency,
        impact=call.impact,
        recording_url=call.recording_url,
        description=call.transcript or "",
    )
    call.ticket_id = ticket.id
    db.session.commit()
    # The transcript may have landed while the ticket was being opened. Locking the call row
    # waits for a transcription webhook that is writing it, so one of the two always sees both.
    transcript = db.session.scalar(select(Call.transcript).where(Call.id == call.id).with_for_update())
    if transcript and not ticket.description:
        ticket.description, ticket.title = transcript, headline(transcript)
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
    """Queue the callback (once per caller), confirm by SMS, and tell the caller their place."""
    ticket = open_ticket(call)
    next_opening = None if opening_hours.is_open() else opening_hours.next_opening()
    due_at = opening_hours.as_utc(next_opening) if next_opening else None
    callback, created = queue_callback(ticket, call.callback_phone, ticket.priority, call.language, due_at=due_at)
    call.callback_id = callback.id
    db.session.commit()
    if created:
        jobs.trigger_dispatch()
        confirm_by_sms(call, ticket)
    twiml = VoiceResponse()
    if callback.priority == 1:
        speak(twiml, call.language, "urgent_front_of_queue")
    place = position(callback)
    speak(twiml, call.language, "queued", position=place)
    wait = wait_prompt(callback, place)
    speak(twiml, call.language, wait, when=spoken_when(call.language, next_opening or opening_hours.next_opening()))
    return say_goodbye(twiml, call.language)


def confirm_by_sms(call: Call, ticket: Ticket) -> None:
    """A mobile caller gets the ticket number and the callback promise in writing (never blocks the call)."""
    mobile = next(
        (number for number in (call.from_e164, call.callback_phone) if number and phone.is_mobile(number)), None
    )
    if mobile is not None:
        body = catalog.message(
            call.language, "sms_queued", ticket=ticket.number, phone=phone.display(call.callback_phone)
        )
        queue_text(mobile, body)


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


@bp.post("/transcription")
@provider_webhook(on_error=hang_up)
def transcription():
    """The provider's transcript of the problem description: the ticket's description and title."""
    call = current_call(request.form)
    text = request.form.get("TranscriptionText", "").strip()[:4000]
    if text and request.form.get("TranscriptionStatus", "completed") == "completed":
        call.transcript = text
        db.session.flush()  # holds the call row until commit: see open_ticket
        db.session.execute(
            update(Ticket)
            .where(Ticket.origin_call_sid == call.sid, Ticket.description == "")
            .values(description=text, title=headline(text))
        )
        db.session.commit()
    return answer(hang_up())


def headline(text: str) -> str:
    """A ticket title from what the caller said: the first words, cut at a word boundary."""
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH].rsplit(" ", 1)[0] + "…"


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
