"""Building TwiML from the catalog: prompts, menus that repeat, and the HTTP answer."""

from flask import Response, current_app
from twilio.twiml.voice_response import Gather, VoiceResponse

from app import urls
from ivr import catalog


def speak(verb: VoiceResponse | Gather, language: str, key: str, **values: object) -> None:
    """Add one prompt: the recording when there is one, else <Say> in the language's voice."""
    recording = catalog.audio_url(language, key)
    if recording and not values:
        verb.play(recording)
        return
    config = current_app.config
    verb.say(
        catalog.text(language, key, **values),
        voice=config["SAY_VOICE"].get(language),
        language=config["SAY_LANGUAGE"].get(language),
    )


def menu(
    twiml: VoiceResponse,
    language: str,
    prompt: str,
    endpoint: str,
    attempt: int = 0,
    num_digits: int | None = 1,
    url_values: dict[str, object] | None = None,
    **values: object,
) -> VoiceResponse:
    """Ask for keys; the answer (or silence, via the Redirect) goes to ``endpoint``'s URL.

    ``attempt`` travels in the URL so the handler knows whether this was the
    repeat: every menu is said twice at most, then takes its safe default.
    """
    url = urls.external(endpoint, **(url_values or {}), **{"try": attempt})
    gather = twiml.gather(
        action=url,
        method="POST",
        num_digits=num_digits,
        finish_on_key="#",
        timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
    )
    if attempt:
        speak(gather, language, "not_understood")
    speak(gather, language, prompt, **values)
    twiml.redirect(url, method="POST")
    return twiml


def attempt_number(raw: str | None) -> int:
    """The ``try`` query parameter; anything odd counts as a repeat already made."""
    return int(raw) if raw in ("0", "1") else 1


def say_goodbye(twiml: VoiceResponse, language: str, key: str = "goodbye", **values: object) -> VoiceResponse:
    speak(twiml, language, key, **values)
    twiml.hangup()
    return twiml


def answer(twiml: VoiceResponse) -> Response:
    return Response(str(twiml), mimetype="text/xml")
