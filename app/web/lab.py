"""The phone lab: phones in the browser, for trying the desk without a Twilio account.

Only when the Twilio emulator stands in for Twilio (``TWILIO_API_BASE_URL`` on
loopback, as ``make run`` sets it without credentials); otherwise every lab URL
is 404. The page talks to this blueprint, which relays to the emulator's
loopback-only control API, so the browser needs no CORS and never reaches the
emulator itself. Calls still reach the desk only as signed webhooks from the
emulator, exactly as from Twilio.
"""

from urllib.parse import quote, urlsplit

import requests
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from app import phone
from app.extensions import db
from app.models import Contact, ContactPhone, Role, Technician
from app.web.auth import protect_forms, role_required

bp = Blueprint("lab", __name__, url_prefix="/lab")
protect_forms(bp)
logged_in = role_required(Role.MANAGER, Role.TECHNICIAN)

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
HANDSET_ACTIONS = frozenset({"call", "answer", "decline", "hangup", "keys", "speech"})
EMULATOR_TIMEOUT_SECONDS = 3
#: Who answers a lab phone: the person at the browser, or an answering machine (the emulator's
#: ``Phone.voicemail()``: it picks up after a second, plays its greeting, never presses a key,
#: and answering-machine detection reports it as a machine — docs/emulator.md).
PHONE_MODES = {
    "person": {"interactive": True},
    "voicemail": {"machine": True, "keys": [], "hangup_when_done": False, "ring_seconds": 1},
}


def lab_enabled() -> bool:
    """True when the REST API the desk uses is the local emulator (real Twilio is never on loopback)."""
    base = current_app.config["TWILIO_API_BASE_URL"]
    return bool(base) and urlsplit(base).hostname in LOOPBACK


@bp.app_context_processor
def lab_link() -> dict:
    return {"lab_enabled": lab_enabled()}


@bp.before_request
def only_with_the_emulator() -> None:
    if not lab_enabled():
        abort(404)


def emulator(method: str, path: str, **kwargs):
    """Relay to the emulator's control API; a JSON 503 when it does not answer."""
    url = current_app.config["TWILIO_API_BASE_URL"].rstrip("/") + "/_emulator" + path
    try:
        reply = requests.request(method, url, timeout=EMULATOR_TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException:
        return jsonify({"error": "The Twilio emulator does not answer; is `make run` up?"}), 503
    return current_app.response_class(reply.content, status=reply.status_code, mimetype="application/json")


def lab_numbers() -> dict:
    """The phones the lab offers: every technician's, and the demo customers' to call from."""
    technicians = db.session.scalars(select(Technician).order_by(Technician.name)).all()
    customers = db.session.execute(
        select(Contact.name, ContactPhone.e164).join(ContactPhone.contact).order_by(Contact.name)
    ).all()
    return {
        "technicians": [{"name": t.name, "number": t.phone} for t in technicians],
        "customers": [{"name": name, "number": number} for name, number in customers],
        "desk": current_app.config["DESK_NUMBER"],
    }


@bp.get("")
@logged_in
def page():
    return render_template("lab/page.html", numbers=lab_numbers())


@bp.post("/handsets")
@logged_in
def take_phones():
    """Put the technicians' phones and the chosen customer phone in the browser's hands."""
    body = request.get_json(silent=True) or {}
    customer = phone.normalise(
        body.get("customer") if isinstance(body, dict) else None, current_app.config["PHONE_REGION"]
    )
    if customer is None:
        return jsonify({"error": "Give the customer phone's number, e.g. +32470123456."}), 400
    numbers = [customer] + [t["number"] for t in lab_numbers()["technicians"]]
    relayed = emulator("GET", "/phones")
    if isinstance(relayed, tuple) or relayed.status_code != 200:
        return relayed
    machines = {number for number, kind in relayed.get_json()["phones"].items() if kind.get("machine")}
    for number in numbers:
        if number in machines:
            continue  # chosen as voicemail earlier: it stays an answering machine
        relayed = emulator("PUT", f"/phones/{quote(number)}", json=PHONE_MODES["person"])
        if isinstance(relayed, tuple) or relayed.status_code != 200:
            return relayed
    return jsonify(
        {"handsets": [n for n in numbers if n not in machines], "voicemail": sorted(machines & set(numbers))}
    )


@bp.post("/phones/<number>")
@logged_in
def set_phone_mode(number: str):
    """Who answers this phone: ``{"mode": "person"}`` (the browser) or ``{"mode": "voicemail"}``."""
    e164 = phone.normalise(number, current_app.config["PHONE_REGION"])
    body = request.get_json(silent=True)
    mode = body.get("mode") if isinstance(body, dict) else None
    if e164 is None:
        abort(404)
    if mode not in PHONE_MODES:
        return jsonify({"error": "Choose person or voicemail."}), 400
    return emulator("PUT", f"/phones/{quote(e164)}", json=PHONE_MODES[mode])


@bp.get("/handsets")
@logged_in
def handsets():
    return emulator("GET", "/handsets")


@bp.get("/messages")
@logged_in
def messages():
    """Every text message the desk sent through the emulator: the lab's phones show theirs."""
    return emulator("GET", "/messages")


@bp.post("/handsets/<number>/<action>")
@logged_in
def handset_action(number: str, action: str):
    e164 = phone.normalise(number, current_app.config["PHONE_REGION"])
    if action not in HANDSET_ACTIONS or e164 is None:
        abort(404)
    body = request.get_json(silent=True)
    return emulator("POST", f"/handsets/{quote(e164)}/{action}", json=body if isinstance(body, dict) else {})
