"""A later time (DESIGN §3.9): after hearing their place, a caller may choose a window to be called back in.

"You can hang up now. To choose a later time, press 1." No key (or hanging up)
keeps the estimate. On 1 the caller hears up to three half-day windows within
opening hours and chooses one; the callback is then not offered before the
window opens, and goes first among its priority once it has.
"""

from datetime import UTC, datetime

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app import callback_links, clock, messages, opening_hours, urls
from app.models import Call, Callback, CallbackStatus
from app.notifications import queue_text
from app.opening_hours import Window
from callbacks import manage
from ivr import bp, catalog
from ivr.calls import current_call
from ivr.twiml import answer, attempt_number, say_goodbye, speak
from ivr.webhook import caller_webhook, choice

#: Windows offered at most (keys 1 to 3).
WINDOWS_OFFERED = 3
#: How long a windows menu's URL stays good: longer than any call.
MENU_LIFETIME_SECONDS = 3600


def can_choose_later(callback: Callback) -> bool:
    """Urgent callbacks go first anyway; a callback already scheduled keeps its window."""
    return callback.priority > 1 and callback.scheduled_for is None and bool(opening_hours.callback_windows(count=1))


def offer_later(twiml: VoiceResponse, call: Call) -> VoiceResponse:
    """ "To choose a later time, press 1"; silence keeps the estimate and says goodbye."""
    gather = twiml.gather(
        action=urls.external("ivr.later"),
        method="POST",
        num_digits=1,
        timeout=current_app.config["GATHER_TIMEOUT_SECONDS"],
    )
    speak(gather, call.language, "later_offer")
    return say_goodbye(twiml, call.language)


def offered_windows(offered_at: int) -> list[Window]:
    """The windows offered at ``offered_at`` (epoch seconds, from the URL): the same list on every step."""
    moment = datetime.fromtimestamp(offered_at, UTC).replace(tzinfo=None)
    return opening_hours.callback_windows(moment, WINDOWS_OFFERED)


def windows_menu(twiml: VoiceResponse, call: Call, offered_at: int, attempt: int) -> VoiceResponse:
    url = urls.external("ivr.window", at=offered_at, **{"try": attempt})
    gather = twiml.gather(action=url, method="POST", num_digits=1, timeout=current_app.config["GATHER_TIMEOUT_SECONDS"])
    if attempt:
        speak(gather, call.language, "not_understood")
    for key, window in enumerate(offered_windows(offered_at), start=1):
        speak(gather, call.language, "window_option", window=catalog.spoken_window(call.language, window), digit=key)
    twiml.redirect(url, method="POST")
    return twiml


@bp.post("/later")
@caller_webhook
def later():
    call = current_call(request.form)
    if request.form.get("Digits") != "1":
        return answer(say_goodbye(VoiceResponse(), call.language))
    now = int(clock.utcnow().replace(tzinfo=UTC).timestamp())
    return answer(windows_menu(VoiceResponse(), call, now, attempt=0))


def offer_moment(raw: str) -> int | None:
    """The ``at`` of a windows menu URL; None unless it is a moment of the last hour (a call is shorter)."""
    now = clock.utcnow().replace(tzinfo=UTC).timestamp()
    if not raw.isdigit() or not now - MENU_LIFETIME_SECONDS <= int(raw) <= now:
        return None
    return int(raw)


@bp.post("/window")
@caller_webhook
def window():
    call = current_call(request.form)
    offered_at = offer_moment(request.args.get("at", ""))
    windows = offered_windows(offered_at) if offered_at is not None else []
    key = choice("".join(str(n) for n in range(1, len(windows) + 1)), default="")
    if key is None and offered_at is not None and attempt_number(request.args.get("try")) == 0:
        return answer(windows_menu(VoiceResponse(), call, offered_at, attempt=1))
    if not key or call.callback_id is None:
        return answer(say_goodbye(VoiceResponse(), call.language))  # the estimate stands
    chosen = windows[int(key) - 1]
    try:
        callback = manage.schedule(
            call.callback_id, clock.as_utc(chosen.start), clock.as_utc(chosen.end), by="the caller, by phone"
        )
    except (manage.Refused, manage.NotFound):
        return answer(say_goodbye(VoiceResponse(), call.language))  # a technician is already calling back
    twiml = VoiceResponse()
    speak(twiml, call.language, "window_chosen", window=catalog.spoken_window(call.language, chosen))
    if callback.status == CallbackStatus.WAITING:
        confirm_window_by_sms(call, callback)
    return answer(say_goodbye(twiml, call.language))


def confirm_window_by_sms(call: Call, callback: Callback) -> None:
    """The chosen window in writing, with the link to change it (a mobile only; never blocks the call)."""
    window = messages.window(call.language, clock.local(callback.scheduled_for), clock.local(callback.window_ends_at))
    body = messages.text(
        call.language,
        "sms_scheduled",
        ticket=callback.ticket.number,
        window=window,
        link=callback_links.link(callback.id),
    )
    queue_text(callback.phone, body)
