"""A new problem: the caller describes it, says how urgent it is, and a ticket is opened."""

from flask import current_app, request
from sqlalchemy import select, update
from twilio.twiml.voice_response import VoiceResponse

from app import opening_hours, urls
from app.extensions import db
from app.models import Call, Ticket
from app.tickets import ticket_store
from callbacks import limits
from ivr import bp, callback_number, catalog, urgent
from ivr.calls import current_call, headline, open_ticket
from ivr.twiml import answer, menu, speak
from ivr.urgency import IMPACTS, URGENCIES
from ivr.webhook import caller_webhook, choice, hang_up, provider_webhook, repeat


def ask_problem(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    speak(twiml, call.language, "record_problem")
    # The provider transcribes English only; other languages keep the recording alone.
    transcription = {"transcribe": True, "transcribe_callback": urls.external("ivr.transcription")}
    twiml.record(
        action=urls.external("ivr.recorded"),
        finish_on_key="#",
        max_length=current_app.config["RECORDING_MAX_SECONDS"],
        play_beep=True,
        recording_status_callback=urls.external("ivr.recording"),
        **(transcription if call.language == "en" else {}),
    )
    # The provider skips the action of an empty recording and goes on here.
    twiml.redirect(urls.external("ivr.recorded"))
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
    return answer(menu(VoiceResponse(), call.language, "urgency_menu", "ivr.urgency"))


@bp.post("/urgency")
@caller_webhook
def urgency():
    call = current_call(request.form)
    key = choice("12", default="1")
    if key is None:
        return repeat(call, "urgency_menu", "ivr.urgency")
    call.urgency = URGENCIES[key]
    db.session.commit()
    return answer(menu(VoiceResponse(), call.language, "impact_menu", "ivr.impact"))


@bp.post("/impact")
@caller_webhook
def impact():
    call = current_call(request.form)
    key = choice("123", default="1")
    if key is None:
        return repeat(call, "impact_menu", "ivr.impact")
    call.impact = IMPACTS[key]
    db.session.commit()
    ticket = open_ticket(call)
    twiml = VoiceResponse()
    if ticket.origin_call_sid == call.sid:
        speak(twiml, call.language, "ticket_created", ticket=catalog.spoken_ticket_number(call.language, ticket.number))
    desk_open = opening_hours.is_open()
    urgent_now = (desk_open and ticket.priority == 1) or (not desk_open and call.urgent_line)
    # One live transfer per number per cooldown: another urgent call from it is a P1 callback.
    if urgent_now and not limits.urgent_cooling_down(call.from_e164, call.sid):
        return answer(urgent.put_through(twiml, call, ticket, oncall_only=not desk_open))
    return answer(callback_number.offer_callback_number(twiml, call))


@bp.post("/transcription")
@provider_webhook(on_error=hang_up)
def transcription():
    """The provider's transcript of the problem description: the ticket's description and title."""
    call = current_call(request.form)
    text = request.form.get("TranscriptionText", "").strip()[:4000]
    if text and request.form.get("TranscriptionStatus", "completed") == "completed":
        call.transcript = text
        db.session.flush()  # holds the call row until commit: see open_ticket
        described = db.session.execute(
            update(Ticket)
            .where(Ticket.origin_call_sid == call.sid, Ticket.description == "")
            .values(description=text, title=headline(text))
        ).rowcount
        db.session.commit()
        if described:
            # The usual case: the ticket was opened tens of seconds ago; its store passes the words on.
            ticket = db.session.scalars(select(Ticket).where(Ticket.origin_call_sid == call.sid)).one()
            db.session.refresh(ticket)
            ticket_store().details_changed(ticket)
    return answer(hang_up())
