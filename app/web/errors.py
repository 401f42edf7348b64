"""What the board, console, API, login and survey pages answer when something behind them fails.

Provider webhooks never get here: ``ivr.webhook.provider_webhook`` answers TwiML
whatever happens. For everything else:

- the database or Redis does not answer → **503** with ``Retry-After``: JSON under
  ``/api/``, a survey page in the customer's language under ``/survey/``, a short
  fragment for htmx requests (the live pages show a banner and keep polling), and a
  stand-alone page otherwise;
- any other error → **500** in the same shapes, never a traceback.

None of these answers touches the database: the login state (``current_user``)
is read from it, so the pages here do not use ``base.html``.
"""

import logging

from flask import Flask, Response, current_app, jsonify, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import InternalServerError

from app.sql import rollback

log = logging.getLogger(__name__)

#: Errors that mean a service the desk needs is not answering (rather than a bug).
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, RedisConnectionError, RedisTimeoutError)
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 5


def register(app: Flask) -> None:
    for error in UNAVAILABLE:
        app.register_error_handler(error, unavailable)
    app.register_error_handler(InternalServerError, internal_error)


def unavailable(error: Exception) -> Response:
    log.warning("%s %s: a service does not answer (%s)", request.method, request.path, type(error).__name__)
    rollback()
    what = "redis" if isinstance(error, RedisConnectionError | RedisTimeoutError) else "database"
    message = f"The desk's {what} does not answer right now. Nothing was changed; try again in a few seconds."
    response = _answer(503, "unavailable", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def internal_error(error: InternalServerError) -> Response:
    original = getattr(error, "original_exception", None)
    if isinstance(original, UNAVAILABLE):
        return unavailable(original)
    rollback()
    return _answer(500, "internal_error", "Something went wrong on the desk's side; it has been logged.")


def _answer(status: int, code: str, message: str) -> Response:
    if request.path.startswith("/api/"):
        response = jsonify({"error": code, "message": message})
    elif request.path.startswith("/survey/"):
        from app.web.survey import browser_language

        language = browser_language()
        page = f"survey/{language}/page.html"
        response = Response(render(page, language=language, state="unavailable", survey=None, token=""))
    elif request.headers.get("HX-Request") == "true":
        response = Response(message, mimetype="text/plain")
    else:
        response = Response(render("problem.html", status=status, message=message), mimetype="text/html")
    response.status_code = status
    return response


def render(template: str, **values) -> str:
    """A template without Flask's context processors: flask-login's would load the user from the database."""
    return current_app.jinja_env.get_template(template).render(**values)
