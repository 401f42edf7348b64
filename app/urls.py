"""Every URL the desk hands out: webhooks to the provider, links to customers.

Each is built from its route's endpoint name, as ``url_for`` would, on
``PUBLIC_BASE_URL``: the address the provider and customers reach, and the one
webhook signatures are checked against. Nothing else writes a path by hand, so
the engine never needs a view and a route can move without a hunt. Values the
route does not take go into the query string.
"""

from flask import current_app
from werkzeug.routing import MapAdapter


def _adapter() -> MapAdapter:
    """One URL builder per app (the URL map is fixed once the app is built)."""
    adapter = current_app.extensions.get("url_builder")
    if adapter is None:
        adapter = current_app.extensions["url_builder"] = current_app.url_map.bind("desk.invalid")
    return adapter


def external(endpoint: str, **values: object) -> str:
    """The absolute URL of ``endpoint`` with ``values``, as the provider or a customer reaches it."""
    return current_app.config["PUBLIC_BASE_URL"] + _adapter().build(endpoint, values)


# -- what the engine hands the provider --------------------------------------------------------------


def technician_answer(attempt_id: int) -> str:
    """Fetched when the technician picks up a callback offer: the whisper (ivr/agent.py)."""
    return external("agent.technician_answered", attempt_id=attempt_id)


def call_status(attempt_id: int | None = None, leg: str | None = None) -> str:
    """The status callback of a call the desk places or receives (``leg``: whose leg of an attempt)."""
    values = {key: value for key, value in (("attempt", attempt_id), ("leg", leg)) if value is not None}
    return external("ivr.status", **values)


def urgent_whisper(transfer_id: int, leg: str) -> str:
    """Fetched when a leg rung for an urgent call picks up (``leg``: a ring id, or oncall)."""
    return external("urgent.whisper", transfer_id=transfer_id, leg=leg)


def urgent_leg_status(transfer_id: int, leg: str) -> str:
    """The status callback of a leg rung for an urgent call."""
    return external("urgent.leg_status", transfer_id=transfer_id, leg=leg)


def urgent_taken(transfer_id: int, leg: str) -> str:
    """Where a leg still in its whisper goes when a colleague took the urgent call."""
    return external("urgent.taken", transfer_id=transfer_id, leg=leg)


def urgent_nobody_free(transfer_id: int) -> str:
    """Where the urgent caller on hold goes when nobody took the call: P1 callback and message."""
    return external("urgent.nobody_free", transfer_id=transfer_id)


# -- what customers get ----------------------------------------------------------------------------


def survey_rating(token: str) -> str:
    """A rating link of the satisfaction survey mail."""
    return external("survey.rate", token=token)


def callback_page(token: str) -> str:
    """A caller's own callback page (the link in their SMS): position, expected time, cancel or move."""
    return external("caller.page", token=token)
