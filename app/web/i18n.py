"""The pages' language (flask-babel): English in the templates, Dutch and French from the catalogs.

Catalogs live in app/web/translations/<language>/LC_MESSAGES/messages.po; `make messages`
extracts the strings marked with ``_()`` from the code and templates and updates them, and
the Makefile compiles them before the desk runs or is tested. The language of a page is the
signed-in person's, else the browser's (``Accept-Language``), else ``DEFAULT_LANGUAGE``.
Dates and times are shown on the desk's clock (Europe/Brussels).
"""

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, gettext, refresh

from app.clock import DESK_TIMEZONE
from app.messages import LANGUAGES
from app.web.filters import state_label

babel = Babel()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "web/translations")
    babel.init_app(app, locale_selector=page_language, timezone_selector=lambda: DESK_TIMEZONE.key)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["said"] = said
    app.before_request(choose_afresh)


def choose_afresh() -> None:
    """flask-babel keeps the chosen language on the app context; a request that shares one with an
    earlier request (a test client inside ``app.app_context()``) must choose afresh, and must not
    inherit the customer language an earlier page set (``g.page_language``)."""
    g.pop("page_language", None)
    refresh()


def page_language() -> str:
    """The language of the customer the page is for (``g.page_language``, e.g. the caller's
    callback page), else the person's own, else the browser's, else the desk's default.

    Only a person already loaded for this request is asked (``g._login_user``, flask-login's):
    an error page rendered with the database down must not need it.
    """
    if not has_request_context():
        return current_app.config["DEFAULT_LANGUAGE"]
    if g.get("page_language") in LANGUAGES:
        return g.page_language
    chosen = getattr(g.get("_login_user"), "language", None)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["DEFAULT_LANGUAGE"]


#: Values of a refusal that name a state: said as the page names states.
STATE_VALUES = ("status", "state")


def said(error: Exception) -> str:
    """A refusal from the engine or the directory (``app.wording``) in the page's language."""
    template = getattr(error, "template", None)
    if template is None:
        return str(error)
    values = {
        name: state_label(str(value).replace(" ", "_")) if name in STATE_VALUES else value
        for name, value in error.values.items()
    }
    return gettext(template, **values)
