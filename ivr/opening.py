"""The start of an inbound call: language, welcome, opening hours, an open callback, main menu."""

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import urls
from app.extensions import db
from app.messages import LANGUAGES
from app.models import OPEN_CALLBACK_STATUSES, Call, Callback, CallbackStatus, CallOutcome
from callbacks import announcements, manage
from callbacks.queue import open_callback_for, position
from ivr import bp, incidents, problem, tickets
from ivr.calls import current_call
from ivr.menus import main_menu_or_closed
from ivr.twiml import answer, menu, say_goodbye, speak
from ivr.webhook import caller_webhook, choice, repeat

#: Keys of the language menu.
LANGUAGE_KEYS = {"1": "nl", "2": "fr", "3": "en"}


# --- Opening: language, welcome, hours, an open callback, main menu -----------------------------


@bp.post("/incoming")
@caller_webhook
def incoming():
    call = current_call(request.form)
    if call.contact is not None and call.contact.language in LANGUAGES:
        return answer(greet(VoiceResponse(), call))
    return answer(language_menu(VoiceResponse(), attempt=0))


def language_menu(twiml: VoiceResponse, attempt: int) -> VoiceResponse:
    """Each option in its own language and voice: "Voor Nederlands, druk 1. Pour le français…"."""
    url = urls.external("ivr.language", **{"try": attempt})
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
    """Welcome, the announcement, a greeting by name, an open incident, then what this caller needs first."""
    speak(twiml, call.language, "welcome")
    announcement = announcements.current(call.language)
    if announcement is not None:
        speak(twiml, call.language, "announcement", text=announcement.text)
    if call.contact is not None:
        if call.contact.company is not None:
            speak(twiml, call.language, "greeting_known", name=call.contact.name, company=call.contact.company.name)
        else:
            speak(twiml, call.language, "greeting_known_no_company", name=call.contact.name)
    incident = incidents.incident_for(call)
    if incident is not None:
        return incidents.tell_incident(twiml, call, incident)
    return queue_or_main_menu(twiml, call)


@bp.post("/after-greeting")
@caller_webhook
def after_greeting():
    """Where the call goes on after the caller heard an incident and did not join it."""
    return answer(queue_or_main_menu(VoiceResponse(), current_call(request.form)))


def queue_or_main_menu(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    """A caller already in the queue hears their place; everyone else the main menu."""
    waiting_callback = open_callback_for(call.from_e164) if call.from_e164 else None
    if waiting_callback is not None:
        return open_callback_menu(twiml, call, waiting_callback, attempt=0)
    return main_menu_or_closed(twiml, call)


@bp.post("/main-menu")
@caller_webhook
def main_menu():
    call = current_call(request.form)
    key = choice("12", default="2")
    if key is None:
        return repeat(call, "main_menu", "ivr.main_menu")
    if key == "1":
        return answer(tickets.ask_ticket_number(VoiceResponse(), call, misses=0))
    return answer(problem.ask_problem(VoiceResponse(), call))


# --- A caller who is already in the queue ---------------------------------------------------------


def open_callback_menu(twiml: VoiceResponse, call: Call, callback: Callback, attempt: int) -> VoiceResponse:
    """Keep your place, cancel, or another question (cancel only while still waiting).

    The answer's URL names the callback the caller heard about: a replayed "cancel" acts on
    that callback or on nothing, never on whichever callback the number has open by then.
    """
    values = {"callback": callback.id}
    if callback.status == CallbackStatus.WAITING:
        return menu(
            twiml,
            call.language,
            "open_callback_menu",
            "ivr.open_callback",
            attempt,
            url_values=values,
            position=position(callback),
        )
    return menu(twiml, call.language, "open_callback_soon_menu", "ivr.open_callback", attempt, url_values=values)


def heard_callback(call: Call) -> Callback | None:
    """The callback this menu was about, while it is still open and still this caller's."""
    wanted = request.args.get("callback", "")
    callback = db.session.get(Callback, int(wanted)) if wanted.isdigit() and len(wanted) < 10 else None
    if callback is None or call.from_e164 is None or callback.phone != call.from_e164:
        return None
    return callback if callback.status in OPEN_CALLBACK_STATUSES else None


@bp.post("/open-callback")
@caller_webhook
def open_callback():
    call = current_call(request.form)
    callback = heard_callback(call)
    if callback is None:
        return answer(main_menu_or_closed(VoiceResponse(), call))
    key = choice("123" if callback.status == CallbackStatus.WAITING else "13", default="1")
    if key is None:
        return answer(open_callback_menu(VoiceResponse(), call, callback, attempt=1))
    twiml = VoiceResponse()
    if key == "3":
        return answer(main_menu_or_closed(twiml, call))
    if key == "2":
        cancelled = cancel_by_phone(callback)
        call.outcome = CallOutcome.CANCELLED_CALLBACK if cancelled else CallOutcome.KEPT_PLACE
        db.session.commit()
        return answer(
            say_goodbye(twiml, call.language, "callback_cancelled" if cancelled else "callback_not_cancelled")
        )
    call.outcome = CallOutcome.KEPT_PLACE
    db.session.commit()
    speak(twiml, call.language, "keep_place")
    return answer(say_goodbye(twiml, call.language))


def cancel_by_phone(callback: Callback) -> bool:
    """The caller pressed "cancel": the engine's own cancel (it also stops an offer that is ringing)."""
    try:
        manage.cancel(callback.id, by="the caller, by phone", by_caller=True)
    except manage.Refused:
        return False  # a technician is already calling them back
    return True


# --- Closed: a message for everyone, the urgent line for contracts that include it -----------------


@bp.post("/closed-menu")
@caller_webhook
def closed_menu():
    call = current_call(request.form)
    key = choice("12", default="2")
    if key is None:
        return repeat(call, "closed_urgent_menu", "ivr.closed_menu")
    if key == "1":
        call.urgent_line = True
        call.urgency = "cannot_work"
        db.session.commit()
        return answer(menu(VoiceResponse(), call.language, "impact_menu", "ivr.impact"))
    return answer(problem.ask_problem(VoiceResponse(), call))
