"""The JSON API: the queue, technicians, one callback, one ticket, and the manager's actions.

Every call but ``/api/openapi.json`` needs ``Authorization: Bearer <token>``
(``flask users token NAME``). Managers may do everything; a technician may read
and set their own state. Errors are JSON: ``{"error": code, "message": text}``.
"""

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from app.clock import day_start
from app.extensions import db
from app.models import Callback, CallbackAttempt, Role, Technician, Ticket
from app.surveys import csat_summary
from app.tickets import ticket_store
from app.web import accounts
from app.web.openapi import document
from callbacks import manage
from callbacks.queue import position
from callbacks.snapshot import queue_snapshot
from callbacks.technicians import MANUAL_TRANSITIONS

bp = Blueprint("api", __name__, url_prefix="/api")

#: An RFC 3339 date-time, offset included: the ``since`` of /api/csat.
RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
#: Largest id the API looks up; anything beyond is simply not found (and never reaches the database).
MAX_ID = 2**31 - 1


def error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


@bp.app_errorhandler(HTTPException)
def json_errors(exception: HTTPException):
    """Routing errors under /api (unknown path, wrong method) answer JSON too; elsewhere Flask's own page."""
    if not request.path.startswith("/api/"):
        return exception
    response, status = error(exception.code or 500, exception.name.lower().replace(" ", "_"), exception.description)
    if exception.code == 405 and exception.valid_methods:
        response.headers["Allow"] = ", ".join(exception.valid_methods)
    return response, status


def token_required(*roles: Role) -> Callable:
    """401 without a valid bearer token, 403 when its user's role is not among ``roles``."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            user = accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                response, status = error(401, "unauthorized", "Send a valid token: Authorization: Bearer <token>.")
                response.headers["WWW-Authenticate"] = 'Bearer realm="callback-desk"'
                return response, status
            if user.role not in roles:
                return error(403, "forbidden", f"A {user.role} may not do this.")
            g.api_user = user
            return view(*args, **kwargs)

        return guarded

    return decorate


anyone = token_required(Role.MANAGER, Role.TECHNICIAN)
manager_only = token_required(Role.MANAGER)


def timestamp(moment: datetime | None) -> str | None:
    """Stored times are naive UTC; the API says so explicitly."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def record_id(raw: str) -> int | None:
    """A path id as a number, or None for anything that cannot be an id."""
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def callback_json(callback: Callback) -> dict:
    attempts = db.session.scalars(
        select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id).order_by(CallbackAttempt.id)
    ).all()
    return {
        "id": callback.id,
        "status": callback.status,
        "priority": callback.priority,
        "phone": callback.phone,
        "ticket_number": callback.ticket.number,
        "position": position(callback) if callback.status == "waiting" else None,
        "attempts": callback.attempts,
        "language": callback.language,
        "outcomes": [attempt.outcome for attempt in attempts if attempt.outcome],
        "wrong_number": callback.wrong_number,
        "technician_id": callback.technician_id,
        "queued_at": timestamp(callback.queued_at),
        "due_at": timestamp(callback.due_at),
        "scheduled_for": timestamp(callback.scheduled_for),
        "status_since": timestamp(callback.status_since),
        "ended_at": timestamp(callback.ended_at),
        "attempt_history": [
            {
                "id": attempt.id,
                "technician_id": attempt.technician_id,
                "status": attempt.status,
                "outcome": attempt.outcome,
                "started_at": timestamp(attempt.started_at),
                "ended_at": timestamp(attempt.ended_at),
                "talk_seconds": attempt.talk_seconds,
                "answered_by": attempt.answered_by,
            }
            for attempt in attempts
        ],
    }


def technician_json(technician: Technician) -> dict:
    return {
        "id": technician.id,
        "name": technician.name,
        "phone": technician.phone,
        "state": technician.state,
        "languages": technician.languages.split(","),
        "state_since": timestamp(technician.state_since),
    }


def ticket_json(ticket: Ticket) -> dict:
    company = ticket.company or (ticket.contact.company if ticket.contact else None)
    return {
        "number": ticket.number,
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "caller_phone": ticket.caller_phone,
        "contact": ticket.contact.name if ticket.contact else None,
        "company": company.name if company else None,
        "contract": company.contract if company else None,
        "created_at": timestamp(ticket.created_at),
        "closed_at": timestamp(ticket.closed_at),
        "notes": [{"body": note.body, "created_at": timestamp(note.created_at)} for note in ticket.notes],
    }


def json_body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/queue")
@anyone
def queue():
    return jsonify(queue_snapshot())


@bp.get("/technicians")
@anyone
def technicians():
    rows = db.session.scalars(select(Technician).order_by(Technician.id))
    return jsonify({"technicians": [technician_json(technician) for technician in rows]})


@bp.get("/callbacks/<raw_id>")
@anyone
def callback(raw_id: str):
    found = db.session.get(Callback, callback_id) if (callback_id := record_id(raw_id)) else None
    if found is None:
        return error(404, "not_found", f"No callback {raw_id}.")
    return jsonify(callback_json(found))


@bp.get("/tickets/<number>")
@anyone
def ticket(number: str):
    found = ticket_store().find(number)
    if found is None:
        return error(404, "not_found", f"No ticket {number}.")
    return jsonify(ticket_json(found))


def parse_since(raw: str) -> datetime | None:
    """An RFC 3339 date-time with its offset, as naive UTC like the stored times; None if it is not one."""
    if not RFC3339_DATE_TIME.fullmatch(raw):
        return None
    try:
        return datetime.fromisoformat(raw.upper()).astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


@bp.get("/csat")
@manager_only
def csat():
    """Satisfaction since ``since`` (default: the start of today in Brussels)."""
    unknown = sorted(set(request.args) - {"since"})
    if unknown:
        return error(400, "unknown_parameter", f"Unknown query parameter {unknown[0]!r}; only 'since' is accepted.")
    since = day_start()
    if "since" in request.args:
        since = parse_since(request.args["since"])
        if since is None:
            return error(400, "bad_since", "since must be a date-time with its offset, e.g. 2026-11-27T00:00:00+01:00.")
    return jsonify({"since": timestamp(since), **csat_summary(since)})


@bp.post("/technicians/<raw_id>/state")
@anyone
def technician_state(raw_id: str):
    technician_id = record_id(raw_id)
    if technician_id is None or db.session.get(Technician, technician_id) is None:
        return error(404, "not_found", f"No technician {raw_id}.")
    if g.api_user.role == Role.TECHNICIAN and g.api_user.technician_id != technician_id:
        return error(403, "forbidden", "A technician may only set their own state.")
    body = json_body()
    state = body.get("state") if body else None
    if state not in MANUAL_TRANSITIONS:
        return error(400, "bad_request", 'Send {"state": "available" | "away" | "offline"}.')
    try:
        technician = manage.set_technician_state(technician_id, state)
    except manage.Refused as refusal:
        return error(409, "conflict", str(refusal))
    return jsonify(technician_json(technician))


@bp.post("/callbacks/<raw_id>/cancel")
@manager_only
def cancel(raw_id: str):
    callback_id = record_id(raw_id)
    try:
        if callback_id is None:
            raise manage.NotFound
        callback = manage.cancel(callback_id, by=g.api_user.username)
    except manage.NotFound:
        return error(404, "not_found", f"No callback {raw_id}.")
    except manage.Refused as refusal:
        return error(409, "conflict", str(refusal))
    return jsonify(callback_json(callback))


@bp.post("/callbacks/<raw_id>/priority")
@manager_only
def change_priority(raw_id: str):
    callback_id = record_id(raw_id)
    if callback_id is None or db.session.get(Callback, callback_id) is None:
        return error(404, "not_found", f"No callback {raw_id}.")
    body = json_body()
    priority = body.get("priority") if body else None
    if isinstance(priority, float) and priority.is_integer():
        priority = int(priority)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 4:
        return error(400, "bad_request", 'Send {"priority": 1 | 2 | 3 | 4} (1 is the highest).')
    try:
        callback = manage.reprioritise(callback_id, priority, by=g.api_user.username)
    except manage.Refused as refusal:
        return error(409, "conflict", str(refusal))
    return jsonify(callback_json(callback))
