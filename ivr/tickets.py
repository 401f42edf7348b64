"""A caller with a ticket number: find it, read it back, and what they want about it."""

import logging

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import urls
from app.extensions import db
from app.models import Call, CallOutcome, Ticket
from app.tickets import ticket_store
from ivr import bp, callback_number, catalog, menus, problem
from ivr.calls import current_call, may_act_on, open_ticket
from ivr.twiml import answer, menu, speak
from ivr.webhook import caller_webhook, choice

log = logging.getLogger(__name__)

#: Misses allowed when keying a ticket number before going on as a new problem.
TICKET_NUMBER_MISSES = 3


def ask_ticket_number(twiml: VoiceResponse, call: Call, misses: int) -> VoiceResponse:
    gather = twiml.gather(
        action=urls.external("ivr.ticket_number", misses=misses),
        finish_on_key="#",
        timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
    )
    speak(gather, call.language, "enter_ticket")
    twiml.redirect(urls.external("ivr.ticket_number", misses=misses))
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
            return answer(problem.ask_problem(VoiceResponse(), call))
        twiml = VoiceResponse()
        speak(twiml, call.language, "ticket_not_found")
        return answer(ask_ticket_number(twiml, call, misses))
    own = may_act_on(call, ticket)
    if own:
        call.ticket_id = ticket.id
    call.outcome = call.outcome or CallOutcome.TICKET_READ
    db.session.commit()
    return answer(read_ticket(VoiceResponse(), call, ticket, own))


def read_ticket(twiml: VoiceResponse, call: Call, ticket: Ticket, own: bool) -> VoiceResponse:
    """Details only for the ticket's own people; anyone else hears the status.

    Someone else's choices act on a new ticket linked to this one, which the menu's URL names
    (the provider signs it, so a caller cannot change it).
    """
    spoken_number = catalog.spoken_ticket_number(call.language, ticket.number)
    status = catalog.status_name(call.language, ticket.status)
    if own:
        speak(twiml, call.language, "ticket_found", ticket=spoken_number, title=ticket.title, status=status)
        return menu(twiml, call.language, "ticket_menu", "ivr.ticket_menu")
    speak(twiml, call.language, "ticket_status_only", ticket=spoken_number, status=status)
    return menu(twiml, call.language, "ticket_menu", "ivr.ticket_menu", url_values={"about": ticket.id})


@bp.post("/ticket-menu")
@caller_webhook
def ticket_menu():
    call = current_call(request.form)
    about = request.args.get("about", "")
    key = choice("123", default="1")
    if key is None:
        values = {"about": about} if about else None
        return answer(menu(VoiceResponse(), call.language, "ticket_menu", "ivr.ticket_menu", 1, url_values=values))
    if key == "3":
        return answer(menus.main_menu_or_closed(VoiceResponse(), call))
    if call.ticket is None:
        related = db.session.get(Ticket, int(about)) if about.isdigit() and len(about) < 10 else None
        if related is None:
            return answer(menus.main_menu_or_closed(VoiceResponse(), call))
        open_linked_ticket(call, related)
    if key == "2":
        call.urgency = "cannot_work"
        db.session.commit()
        return answer(menu(VoiceResponse(), call.language, "impact_menu", "ivr.impact"))
    return answer(callback_number.offer_callback_number(VoiceResponse(), call))


def open_linked_ticket(call: Call, related: Ticket) -> Ticket:
    """A caller who is not one of the ticket's people gets a ticket of their own, naming it."""
    ticket = open_ticket(call, related=related)
    if ticket.origin_call_sid == call.sid and not ticket.notes:
        who = call.from_e164 or "a withheld number"
        ticket_store().add_note(
            ticket,
            f"The caller ({who}) asked about ticket {related.number} but is not one of its company's "
            "contacts nor its caller: not verified, so this ticket was opened instead.",
        )
        log.info("call %s: %s is not verified for ticket %s; opened %s", call.sid, who, related.number, ticket.number)
    return ticket
