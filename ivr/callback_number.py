"""The callback number (the caller ID confirmed, or one keyed) and the caller's place in the queue."""

import logging

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import callback_links, clock, messages, opening_hours, phone
from app.extensions import db
from app.models import Call, Callback, CallOutcome, Ticket
from app.notifications import queue_text
from app.tickets import ticket_store
from callbacks import jobs, limits
from callbacks.estimate import wait_prompt
from callbacks.queue import position, promise_kept, queue_callback
from ivr import bp, catalog, windows
from ivr.calls import current_call, open_ticket
from ivr.twiml import answer, attempt_number, menu, say_goodbye, speak
from ivr.webhook import caller_webhook, choice

log = logging.getLogger(__name__)


def offer_callback_number(twiml: VoiceResponse, call: Call, attempt: int = 0) -> VoiceResponse:
    """Confirm the caller ID (or a keyed number); ask for one when there is none we may call."""
    number = call.callback_phone or call.from_e164
    if not limits.may_call_back(number):
        return ask_number(twiml, call, attempt=0)
    return menu(twiml, call.language, "confirm_number", "ivr.confirm_number", attempt, phone=phone.spoken(number))


def ask_number(twiml: VoiceResponse, call: Call, attempt: int) -> VoiceResponse:
    return menu(twiml, call.language, "enter_number", "ivr.keyed_number", attempt, num_digits=None)


@bp.post("/confirm-number")
@caller_webhook
def confirm_number():
    call = current_call(request.form)
    key = choice("12", default="1")
    if key is None:
        return answer(offer_callback_number(VoiceResponse(), call, attempt=1))
    number = call.callback_phone or call.from_e164
    if key == "2" or not limits.may_call_back(number):
        return answer(ask_number(VoiceResponse(), call, attempt=0))
    call.callback_phone = number
    db.session.commit()
    return answer(finish_in_queue(call))


@bp.post("/keyed-number")
@caller_webhook
def keyed_number():
    call = current_call(request.form)
    number = phone.from_keypad(request.form.get("Digits"), current_app.config["PHONE_REGION"])
    refused = limits.callback_refusal(number) if number is not None else "invalid"
    if refused is None and limits.over_ticket_limit(number):
        return answer(refuse_for_the_hour(VoiceResponse(), call, number))
    if refused is None:
        call.callback_phone = number
        db.session.commit()
        return answer(offer_callback_number(VoiceResponse(), call))
    twiml = VoiceResponse()
    speak(twiml, call.language, "invalid_number" if refused == "invalid" else "number_not_allowed")
    if attempt_number(request.args.get("try")) == 0:
        return answer(ask_number(twiml, call, attempt=1))
    if limits.may_call_back(call.from_e164):
        return answer(offer_callback_number(twiml, call, attempt=1))
    ticket = open_ticket(call)
    call.outcome = CallOutcome.NO_NUMBER if refused == "invalid" else CallOutcome.REFUSED_NUMBER
    db.session.commit()
    if refused == "invalid":
        ticket_store().add_note(ticket, "The caller could not give a callback number.")
    else:
        ticket_store().add_note(ticket, f"The caller gave {number}, which the desk does not call back ({refused}).")
        log.info("call %s: callback number %s refused (%s)", call.sid, number, refused)
    speak(twiml, call.language, "no_callback_number")
    return answer(say_goodbye(twiml, call.language))


def refuse_for_the_hour(twiml: VoiceResponse, call: Call, number: str) -> VoiceResponse:
    """The number has opened its share of tickets this hour: say so politely, open nothing more."""
    call.outcome = CallOutcome.LIMITED
    db.session.commit()
    log.info("call %s: %s has had its tickets for the hour (CALLS_PER_HOUR); refused", call.sid, number)
    if call.ticket is not None:
        ticket_store().add_note(call.ticket, f"No callback: {number} has had its tickets for the hour.")
    speak(twiml, call.language, "too_many_calls")
    return say_goodbye(twiml, call.language)


def finish_in_queue(call: Call) -> VoiceResponse:
    """Queue the callback (once per caller), confirm by SMS, and tell the caller their place."""
    ticket = open_ticket(call)
    kept = promise_kept(ticket, call.sid)
    if kept is not None:
        call.callback_id, call.outcome = kept.id, CallOutcome.QUEUED
        db.session.commit()
        return say_goodbye(VoiceResponse(), call.language)
    next_opening = None if opening_hours.is_open() else opening_hours.next_opening()
    due_at = clock.as_utc(next_opening) if next_opening else None
    callback, created = queue_callback(ticket, call.callback_phone, ticket.priority, call.language, due_at=due_at)
    call.callback_id, call.outcome = callback.id, CallOutcome.QUEUED
    db.session.commit()
    if created:
        jobs.trigger_dispatch()
        confirm_by_sms(call, ticket, callback)
    twiml = VoiceResponse()
    if callback.priority == 1:
        speak(twiml, call.language, "urgent_front_of_queue")
    place = position(callback)
    speak(twiml, call.language, "queued", position=place)
    wait = wait_prompt(callback, place)
    speak(
        twiml,
        call.language,
        wait,
        when=catalog.spoken_when(call.language, next_opening or opening_hours.next_opening()),
    )
    if created and windows.can_choose_later(callback):
        return windows.offer_later(twiml, call)
    return say_goodbye(twiml, call.language)


def confirm_by_sms(call: Call, ticket: Ticket, callback: Callback) -> None:
    """A mobile caller gets the ticket number and the callback promise in writing (never blocks the call)."""
    mobile = next(
        (
            number
            for number in (call.from_e164, call.callback_phone)
            if limits.may_call_back(number) and phone.is_mobile(number)
        ),
        None,
    )
    if mobile is not None:
        body = messages.text(
            call.language,
            "sms_queued",
            ticket=ticket.number,
            phone=phone.display(call.callback_phone),
            link=callback_links.link(callback.id),
        )
        queue_text(mobile, body)
