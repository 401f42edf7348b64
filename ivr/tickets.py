"""A caller with a ticket number: find it, read it back, and what they want about it."""

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import urls
from app.extensions import db
from app.models import Call, CallOutcome, Ticket
from app.tickets import ticket_store
from ivr import bp, callback_number, catalog, menus, problem
from ivr.calls import current_call
from ivr.twiml import answer, menu, speak
from ivr.webhook import caller_webhook, choice, repeat

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
    call.ticket_id = ticket.id
    call.outcome = call.outcome or CallOutcome.TICKET_READ
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
    return menu(twiml, call.language, "ticket_menu", "ivr.ticket_menu")


@bp.post("/ticket-menu")
@caller_webhook
def ticket_menu():
    call = current_call(request.form)
    key = choice("123", default="1")
    if key is None:
        return repeat(call, "ticket_menu", "ivr.ticket_menu")
    if key == "3":
        return answer(menus.main_menu_or_closed(VoiceResponse(), call))
    if key == "2":
        call.urgency = "cannot_work"
        db.session.commit()
        return answer(menu(VoiceResponse(), call.language, "impact_menu", "ivr.impact"))
    return answer(callback_number.offer_callback_number(VoiceResponse(), call))
