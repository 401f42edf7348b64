"""The caller's own callback page, ``/c/<token>`` (DESIGN §10): the link in their SMS.

Mobile-first, in the caller's language, no login: ticket number, place in the
queue and expected time, and two buttons, "cancel my callback" and "choose
another time" (the windows of the IVR). GET only shows; changes are POSTs with
the session's CSRF token. A link whose callback is over, or a forged one, shows
"this link is no longer valid". Every route is on the ``caller`` blueprint and shares one rate
limit per client address (``CALLER_PAGE_LIMIT``): the links are unguessable, the
limit keeps anyone from trying tokens or flooding the pages.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import format_date, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import callback_links, clock, messages, opening_hours, phone
from app.extensions import db
from app.models import Callback, CallbackStatus
from app.web import limits
from app.web.auth import protect_forms
from app.web.limits import limiter
from callbacks import estimate, lifecycle, manage
from callbacks.queue import position

bp = Blueprint("caller", __name__, url_prefix="/c")
protect_forms(bp)

#: Windows the page offers to move to.
WINDOWS_OFFERED = 3
BY = "the caller, on their callback page"


#: What the page says, per key of the wait estimate (``estimate.wait_prompt``) and of each outcome.
TEXTS = {
    "wait_15": _l("We expect to call you back within 15 minutes."),
    "wait_30": _l("We expect to call you back within half an hour."),
    "wait_60": _l("We expect to call you back within the hour."),
    "wait_today": _l("We expect to call you back today."),
    "wait_next_opening": _l("We will call you back as soon as we open."),
    "moved": _l("Your callback is moved."),
    "cancelled": _l("Your callback has been cancelled."),
    "completed": _l("Your callback has taken place."),
    "unreachable": _l("We tried to call you back but could not reach you."),
    "too_late": _l("A technician is already calling you back, so your callback can no longer be changed."),
    "no_window": _l("Choose one of the times offered."),
}


@dataclass(frozen=True)
class Choice:
    value: str  # the window's start, epoch seconds
    label: str


def _callback(token: str) -> Callback | None:
    """The link's callback (None for a forged one); the page then speaks the callback's language."""
    callback_id = callback_links.callback_id_from(token)
    callback = db.session.get(Callback, callback_id, populate_existing=True) if callback_id is not None else None
    # A customer's page: the callback's language, whoever's browser opens it (app.web.i18n.page_language).
    g.page_language = messages.supported(callback.language) if callback else _browser_language()
    refresh()
    return callback


def _epoch(moment: datetime) -> str:
    return str(int(moment.astimezone(UTC).timestamp()))


def _window(start: datetime, end: datetime) -> str:
    """A window in the page's language, desk time: "on Monday 7/12 between 8:00 and 12:00"."""
    day, date = format_date(start, "EEEE"), f"{start.day}/{start.month}"
    begins, ends = f"{start.hour}:{start.minute:02d}", f"{end.hour}:{end.minute:02d}"
    return _("on %(day)s %(date)s between %(start)s and %(end)s", day=day, date=date, start=begins, end=ends)


def _windows(callback: Callback) -> list[Choice]:
    """The next windows, the callback's current one left out."""
    current = clock.local(callback.scheduled_for) if callback.scheduled_for else None
    return [
        Choice(_epoch(window.start), _window(window.start, window.end))
        for window in opening_hours.callback_windows(count=WINDOWS_OFFERED + 1)
        if window.start != current
    ][:WINDOWS_OFFERED]


def _expected(callback: Callback, place: int | None) -> str:
    if callback.status != CallbackStatus.WAITING:
        return _("A technician is calling you back now.")
    if callback.scheduled_for is not None and callback.scheduled_for > clock.utcnow():
        window = _window(clock.local(callback.scheduled_for), clock.local(callback.window_ends_at))
        return _("We will call you back %(window)s.", window=window)
    if callback.due_at > clock.utcnow():
        # A retry after the customer was not reached: it keeps its place and waits until then.
        return _("We will try to call you again at %(time)s.", time=clock.local(callback.due_at).strftime("%H:%M"))
    return str(TEXTS[estimate.wait_prompt(callback, place or 1)])


def render(token: str, callback: Callback | None, notice_key: str | None = None, status: int = 200) -> Response:
    """The page in the callback's language (a forged link: the browser's), from the pages' catalog."""
    language = messages.supported(callback.language if callback else _browser_language())
    state = "none"
    if callback is not None:
        state = "final" if callback.status in lifecycle.FINAL else callback.status
    place = position(callback) if state == "waiting" and not _not_yet_open(callback) else None
    html = render_template(
        "caller/page.html",
        language=language,
        token=token,
        callback=callback,
        state=state,
        position=place,
        expected=_expected(callback, place) if state not in ("none", "final") else "",
        windows=_windows(callback) if state == "waiting" else [],
        notice=_notice(callback, notice_key),
        desk=phone.display(current_app.config["DESK_NUMBER"]),
        limited=status == 429,
    )
    response = Response(html, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _notice(callback: Callback | None, key: str | None) -> str | None:
    if key is None and callback is not None and callback.status in lifecycle.FINAL:
        key = {CallbackStatus.COMPLETED: "completed", CallbackStatus.UNREACHABLE: "unreachable"}.get(
            callback.status, "cancelled"
        )
    return str(TEXTS[key]) if key else None


def _not_yet_open(callback: Callback) -> bool:
    return callback.scheduled_for is not None and callback.scheduled_for > clock.utcnow()


def _browser_language() -> str:
    return request.accept_languages.best_match(messages.LANGUAGES) or current_app.config["DEFAULT_LANGUAGE"]


def _gone(token: str, callback: Callback | None) -> Response | None:
    """A forged link, or one whose callback is over: the polite "no longer valid"."""
    if callback is None:
        return render(token, None, status=404)
    if callback.status in lifecycle.FINAL:
        return render(token, callback, status=410)
    return None


def too_many(limit) -> Response:
    """429 in the language the caller's browser asks for, saying to try again later."""
    response = render((request.view_args or {}).get("token", ""), None, status=429)
    response.headers["Retry-After"] = str(limits.retry_after(limit))
    return response


#: One counter per client address over every route of the page (shown, cancelled, moved).
limited = limiter.shared_limit(limits.caller_page, scope="caller", on_breach=too_many)


@bp.get("/<token>")
@limited
def page(token: str) -> Response:
    callback = _callback(token)
    return render(token, callback, status=200 if callback is not None else 404)


@bp.post("/<token>/cancel")
@limited
def cancel(token: str) -> Response:
    callback = _callback(token)
    if (gone := _gone(token, callback)) is not None:
        return gone
    try:
        callback = manage.cancel(callback.id, by=BY, by_caller=True)
    except manage.Refused:
        return render(token, _callback(token), "too_late", status=409)
    return render(token, callback, "cancelled")


@bp.post("/<token>/move")
@limited
def move(token: str) -> Response:
    callback = _callback(token)
    if (gone := _gone(token, callback)) is not None:
        return gone
    chosen = request.form.get("window", "")
    windows = {_epoch(window.start): window for window in opening_hours.callback_windows(count=WINDOWS_OFFERED + 1)}
    if chosen not in windows or chosen not in {choice.value for choice in _windows(callback)}:
        return render(token, callback, "no_window", status=400)
    window = windows[chosen]
    try:
        callback = manage.schedule(callback.id, clock.as_utc(window.start), clock.as_utc(window.end), BY, move=True)
    except manage.Refused:
        return render(token, _callback(token), "too_late", status=409)
    return render(token, callback, "moved")
