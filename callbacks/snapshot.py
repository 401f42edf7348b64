"""The queue at a glance, as ``flask queue --json`` prints it and the API serves it (DESIGN §7)."""

from sqlalchemy import or_, select

from app import clock
from app.extensions import db
from app.models import OPEN_CALLBACK_STATUSES, Callback, CallbackAttempt, Technician
from callbacks import urgent
from callbacks.queue import waiting


def queue_snapshot() -> dict:
    """Today's callbacks in every state (and older ones still open), all technicians and the
    urgent calls in progress, as ``queue --json`` prints them."""
    today = clock.day_start()
    callbacks = db.session.scalars(
        select(Callback)
        .where(or_(Callback.queued_at >= today, Callback.status.in_(OPEN_CALLBACK_STATUSES)))
        .order_by(Callback.priority, Callback.queued_at, Callback.id)
    )
    callbacks = list(callbacks)
    # One pass over the queue order gives every waiting callback its place.
    places = {callback.id: place for place, callback in enumerate(waiting(), start=1)}
    outcomes: dict[int, list[str]] = {}
    ended = (
        select(CallbackAttempt.callback_id, CallbackAttempt.outcome)
        .where(CallbackAttempt.callback_id.in_([c.id for c in callbacks] or [0]), CallbackAttempt.outcome.is_not(None))
        .order_by(CallbackAttempt.id)
    )
    for callback_id, outcome in db.session.execute(ended):
        outcomes.setdefault(callback_id, []).append(outcome)
    return {
        "callbacks": [
            {
                "id": callback.id,
                "status": callback.status,
                "priority": callback.priority,
                "phone": callback.phone,
                "ticket_number": callback.ticket.number,
                "position": places.get(callback.id),
                "attempts": callback.attempts,
                "language": callback.language,
                "scheduled_for": callback.scheduled_for.isoformat() + "Z" if callback.scheduled_for else None,
                "outcomes": outcomes.get(callback.id, []),
                "wrong_number": callback.wrong_number,
            }
            for callback in callbacks
        ],
        "technicians": [
            {
                "id": technician.id,
                "name": technician.name,
                "phone": technician.phone,
                "state": technician.state,
                "languages": technician.languages.split(","),
            }
            for technician in db.session.scalars(select(Technician).order_by(Technician.id))
        ],
        "urgent_calls": [
            {
                "id": transfer.id,
                "status": transfer.status,
                "phone": transfer.phone,
                "ticket_number": transfer.ticket.number,
                "technician_id": transfer.technician_id,
                "taken_by_oncall": transfer.taken_by_oncall,
                "started_at": transfer.started_at.isoformat() + "Z",
            }
            for transfer in urgent.in_progress()
        ],
    }
