"""The main menu, or what a closed desk offers instead: where a call starts and where several steps lead back."""

from twilio.twiml.voice_response import VoiceResponse

from app import opening_hours
from app.directory.contracts import in_force, includes_out_of_hours
from app.models import Call
from callbacks import limits
from ivr import callback_number, catalog, problem
from ivr.twiml import menu, speak


def main_menu_or_closed(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    """Where a new ticket starts: refused politely once the number has had its tickets for the hour."""
    if call.ticket_id is None and limits.over_ticket_limit(call.from_e164):
        return callback_number.refuse_for_the_hour(twiml, call, call.from_e164)
    if not opening_hours.is_open():
        return closed(twiml, call)
    return menu(twiml, call.language, "main_menu", "ivr.main_menu")


def closed(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    speak(twiml, call.language, "closed", when=catalog.spoken_when(call.language, opening_hours.next_opening()))
    company = call.contact.company if call.contact else None
    if includes_out_of_hours(in_force(company)):
        return menu(twiml, call.language, "closed_urgent_menu", "ivr.closed_menu")
    return problem.ask_problem(twiml, call)
