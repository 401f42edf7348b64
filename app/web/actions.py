"""What a person can do to the desk from the board, the console or the API.

Each action calls the engine's own operation (``callbacks.manage`` for callbacks,
``callbacks.technicians`` for states), leaves a note on the ticket saying who did
it, and triggers dispatch when a technician becomes available. A refused action
raises ``Refused`` with a sentence for the person; a missing record ``NotFound``.
"""

from app.extensions import db
from app.models import Callback, Technician, TechnicianState, User
from app.tickets import ticket_store
from callbacks import jobs, manage, technicians


class NotFound(Exception):
    """No such callback, technician or ticket."""


class Refused(Exception):
    """The action is not possible in the record's current state."""


def _callback(callback_id: int) -> Callback:
    callback = db.session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(f"no callback {callback_id}")
    return callback


def _technician(technician_id: int) -> Technician:
    technician = db.session.get(Technician, technician_id)
    if technician is None:
        raise NotFound(f"no technician {technician_id}")
    return technician


def cancel_callback(callback_id: int, by: User) -> Callback:
    """Take a callback out of the queue for good (an offered one too: its technician is released)."""
    try:
        callback = manage.cancel(callback_id)
    except manage.NotFound as missing:
        raise NotFound(str(missing)) from missing
    except manage.Refused as refusal:
        raise Refused(str(refusal)) from refusal
    ticket_store().add_note(callback.ticket, f"Callback cancelled by {by.username}.")
    return callback


def change_priority(callback_id: int, priority: int, by: User) -> Callback:
    """Move an open callback to another priority; it keeps its first-queued time."""
    old = _callback(callback_id).priority
    try:
        callback = manage.reprioritise(callback_id, priority)
    except manage.NotFound as missing:
        raise NotFound(str(missing)) from missing
    except manage.Refused as refusal:
        raise Refused(str(refusal)) from refusal
    if old != priority:
        ticket_store().add_note(
            callback.ticket, f"Callback priority changed from P{old} to P{priority} by {by.username}."
        )
    return callback


def set_technician_state(technician_id: int, state: str) -> Technician:
    """Available, away or offline, as a person decides; refused while the technician is rung or on a call."""
    if state not in technicians.MANUAL_TRANSITIONS:
        raise ValueError(f"state is one of {', '.join(technicians.MANUAL_TRANSITIONS)}")
    technician = _technician(technician_id)
    if not technicians.set_state(technician.id, state):
        db.session.rollback()
        db.session.refresh(technician)
        raise Refused(f"{technician.name} is {technician.state.replace('_', ' ')}; cannot go {state} now.")
    db.session.commit()
    db.session.refresh(technician)
    if state == TechnicianState.AVAILABLE:
        jobs.trigger_dispatch()
    return technician
