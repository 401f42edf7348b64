"""An open incident for the caller's company: they hear it and may join it instead of reporting it again.

"We know about …. To be kept informed by text message, press 1. For another
problem, press 2." Joining creates no callback and no ticket: the caller is
added to the incident and gets its updates by SMS. Anything else goes on with
the call (``ivr.after_greeting``, ivr/opening.py).
"""

from flask import request
from twilio.twiml.voice_response import VoiceResponse

from app import phone, urls
from app.extensions import db
from app.models import Call, CallOutcome, Incident
from callbacks import incidents, manage
from ivr import bp
from ivr.calls import current_call
from ivr.twiml import answer, menu, say_goodbye, speak
from ivr.webhook import caller_webhook, choice


def incident_for(call: Call) -> Incident | None:
    company_id = call.contact.company_id if call.contact is not None else None
    return incidents.active_for(company_id)


def can_join(call: Call) -> bool:
    """Updates go by SMS: only a caller on a mobile number can be kept informed."""
    return call.from_e164 is not None and phone.is_mobile(call.from_e164)


def tell_incident(twiml: VoiceResponse, call: Call, incident: Incident, attempt: int = 0) -> VoiceResponse:
    """The incident in the caller's words; the offer to join when the caller can get text messages."""
    text = incident.spoken(call.language)
    if can_join(call):
        return menu(twiml, call.language, "incident_menu", "ivr.incident", attempt, incident=text)
    speak(twiml, call.language, "incident_known", incident=text)
    return go_on(twiml)


def go_on(twiml: VoiceResponse) -> VoiceResponse:
    twiml.redirect(urls.external("ivr.after_greeting"), method="POST")
    return twiml


@bp.post("/incident")
@caller_webhook
def incident():
    call = current_call(request.form)
    current = incident_for(call)
    if current is None or not can_join(call):
        return answer(go_on(VoiceResponse()))
    key = choice("12", default="2")
    if key is None:
        return answer(tell_incident(VoiceResponse(), call, current, attempt=1))
    if key == "2":
        return answer(go_on(VoiceResponse()))
    try:
        incidents.join(current.id, call.from_e164, call.language, call.contact.name if call.contact else None)
    except manage.Refused:
        return answer(go_on(VoiceResponse()))  # closed meanwhile: nothing to join
    call.outcome = CallOutcome.JOINED_INCIDENT
    db.session.commit()
    return answer(say_goodbye(VoiceResponse(), call.language, "incident_joined"))
