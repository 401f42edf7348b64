"""What every step of the inbound call shares: the blueprint, the safe path, menu keys.

The steps themselves live by topic: ivr/opening.py (language, welcome, hours,
an open callback), ivr/tickets.py (an existing ticket), ivr/problem.py (a new
problem and its urgency), ivr/callback_number.py (the number and the queue) and
ivr/provider.py (status, recording and fallback webhooks).
"""

import logging

from flask import Blueprint, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import phone
from app.models import Call
from app.telephony import public_url
from callbacks import rescue
from ivr.twiml import answer, attempt_number, menu, say_goodbye, speak
from ivr.webhook import provider_webhook

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__, url_prefix="/voice")


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
