"""The peer of bench/webhooks.py: the IVR a developer writes by following Twilio's documented Flask IVR.

Written plainly, the way these pages teach it, with no tuning of any kind:

- Twilio, "Secure your Flask App by Validating Incoming Twilio Requests"
  (https://www.twilio.com/docs/usage/tutorials/how-to-secure-your-flask-app-by-validating-incoming-twilio-requests):
  the ``validate_twilio_request`` decorator, a ``RequestValidator`` built from the auth token on
  every request, 403 for a bad signature. The page validates ``request.url``; behind a proxy that
  is not the URL Twilio signed, so the peer validates the public one, PUBLIC_BASE_URL + path +
  query, exactly as the desk does (app/telephony.py): the same pre-signed requests serve both.
- Twilio, "Gather User Input via Keypad (DTMF Tones) in Python"
  (https://www.twilio.com/docs/voice/tutorials/how-to-gather-user-input-via-keypad-python) and the
  "IVR: Phone Tree" sample app (https://github.com/TwilioDevEd/ivr-phone-tree-python, views.py):
  a ``VoiceResponse`` with ``<Say>`` inside a ``<Gather>`` whose action is the next step, a
  ``<Redirect>`` for silence, ``request.form["Digits"]``, the TwiML returned as text/xml.
- Flask-SQLAlchemy, "Quick Start" (https://flask-sqlalchemy.readthedocs.io/en/stable/quickstart/)
  and "Modifying and Querying Data" (https://flask-sqlalchemy.readthedocs.io/en/stable/queries/):
  ``SQLAlchemy(model_class=Base)``, a typed model, ``db.session.execute(db.select(...))``,
  ``db.one_or_404``, ``db.session.add`` and ``db.session.commit``, ``db.create_all``.

One ``Call`` row per CallSid. ``/voice/incoming`` looks it up, inserts it if new, commits and
answers a language menu; ``/voice/main-menu`` finds the existing call, stores the key pressed,
commits and asks for the problem. The TwiML is the size of the desk's answers to the same steps.

    gunicorn "bench.peer:create_app()"   # DATABASE_URL, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL
"""

from __future__ import annotations

import os
from functools import wraps

from flask import Blueprint, Flask, Response, abort, request, url_for
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
bp = Blueprint("voice", __name__, url_prefix="/voice")


class Call(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(64))
    menu_choice: Mapped[str | None] = mapped_column(String(1))


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    db.init_app(app)
    app.register_blueprint(bp)
    return app


def validate_twilio_request(f):
    """Validates that incoming requests genuinely originated from Twilio."""

    @wraps(f)
    def decorated_function(*args, **kwargs):
        validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN"))
        # The URL Twilio requested: the public base URL, not the one the proxy forwarded to.
        url = os.environ["PUBLIC_BASE_URL"] + request.path
        if request.query_string:
            url += "?" + request.query_string.decode()
        request_valid = validator.validate(url, request.form, request.headers.get("X-TWILIO-SIGNATURE", ""))
        if request_valid:
            return f(*args, **kwargs)
        return abort(403)

    return decorated_function


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.post("/incoming")
@validate_twilio_request
def incoming() -> Response:
    sid = request.form["CallSid"]
    call = db.session.execute(db.select(Call).filter_by(sid=sid)).scalar_one_or_none()
    if call is None:
        call = Call(sid=sid, caller=request.form["From"])
        db.session.add(call)
        db.session.commit()
    response = VoiceResponse()
    with response.gather(num_digits=1, action=url_for("voice.main_menu"), method="POST", timeout=6) as gather:
        gather.say("Voor Nederlands, druk 1.", voice="Polly.Lisa-Neural", language="nl-BE")
        gather.say("Pour le français, appuyez sur 2.", voice="Polly.Isabelle-Neural", language="fr-BE")
        gather.say("For English, press 3.", voice="Polly.Amy-Neural", language="en-GB")
    response.redirect(url_for("voice.incoming"))
    return twiml(response)


@bp.post("/main-menu")
@validate_twilio_request
def main_menu() -> Response:
    call = db.one_or_404(db.select(Call).filter_by(sid=request.form["CallSid"]))
    call.menu_choice = request.form["Digits"]
    db.session.commit()
    response = VoiceResponse()
    response.say(
        "After the beep, describe your problem briefly, then press the hash key.",
        voice="Polly.Amy-Neural",
        language="en-GB",
    )
    response.record(action=url_for("voice.main_menu"), finish_on_key="#", max_length=120, play_beep=True)
    response.redirect(url_for("voice.main_menu"))
    return twiml(response)
