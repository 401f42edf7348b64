"""Engine operations a person asks for: cancel a callback, change its priority, set a technician's state.

The board, the console, the API, the CLI and the IVR (a caller cancelling) call
these. Each one checks the record's state, moves it through the state machines'
own transitions, commits, and leaves a note on the ticket saying who did it. A
request that cannot be honoured raises ``Refused`` with a sentence a person can
read (``NotFound`` when there is no such record).
"""

import logging
from datetime import datetime

from sqlalchemy import select

from app import clock, telephony
from app.extensions import db
from app.models import (
    CANCELLED_BY_CALLER,
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    Technician,
    TechnicianState,
)
from app.tickets import ticket_store
from app.wording import N_, Invalid, worded
from callbacks import attempts, lifecycle, queue, technicians, triggers
from callbacks.queue import reprioritise as set_priority

log = logging.getLogger(__name__)

#: Re-reads when the callback moves between our read and our write (a webhook won the race).
MAX_TRIES = 3


class NotFound(LookupError):
    """No callback (or technician) with that id."""

    def __init__(self, template: str = "", /, **values: object) -> None:
        super().__init__(worded(self, template, values))


class Refused(Exception):
    """The callback's state does not allow it; ``status`` is the state it is in."""

    def __init__(self, template: str, status: str, /, **values: object) -> None:
        super().__init__(worded(self, template, values))
        self.status = status


def _callback(callback_id: int) -> Callback:
    callback = db.session.get(Callback, callback_id, populate_existing=True)
    if callback is None:
        raise NotFound("There is no callback %(id)s.", id=callback_id)
    return callback


#: Why a callback that is over cannot be changed, per change.
OVER = {
    "moved": N_("Callback %(id)s is already %(status)s; it cannot be moved."),
    "cancelled": N_("Callback %(id)s is already %(status)s; it cannot be cancelled."),
    "re-prioritised": N_("Callback %(id)s is already %(status)s; it cannot be re-prioritised."),
}


def _refuse_unless_open(callback: Callback, doing: str) -> None:
    if callback.status in lifecycle.FINAL:
        raise Refused(OVER[doing], callback.status, id=callback.id, status=callback.status)


def _ringing_attempt(callback_id: int) -> CallbackAttempt | None:
    return db.session.scalars(
        select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback_id, CallbackAttempt.status == AttemptStatus.RINGING_TECHNICIAN
        )
    ).first()


def _hang_up(call_sid: str | None) -> None:
    """Stop the technician's phone; the leg's late webhooks then find the offer gone."""
    if call_sid is None:
        return  # not rung yet: on answer the technician hears that the callback is taken care of
    try:
        telephony.rest_client().calls(call_sid).update(status="completed")
    except Exception:
        log.warning("could not hang up technician leg %s; it ends by itself", call_sid, exc_info=True)


def cancel(callback_id: int, by: str, by_caller: bool = False) -> Callback:
    """Cancel a waiting or offered callback for good; the ticket's note says ``by`` whom.

    An offered callback's technician is released at once and their ringing
    phone hung up. A callback in progress (the technician is calling the
    customer) or already final is refused. ``by_caller``: the caller cancelled
    it themselves (by phone or on their callback page); the board counts those.
    """
    callback = _cancel(callback_id)
    if by_caller:
        callback.cancelled_by = CANCELLED_BY_CALLER
        db.session.commit()
    ticket_store().add_note(callback.ticket, f"Callback cancelled by {by}.")
    return callback


def schedule(callback_id: int, start: datetime, end: datetime, by: str, move: bool = False) -> Callback:
    """Call back in a window (naive UTC) instead of as soon as possible; ``move``: the caller changed their window.

    Only a waiting callback can be scheduled: one whose technician is being rung
    or calling is refused. It keeps its priority and its place among equals.
    """
    callback = _callback(callback_id)
    _refuse_unless_open(callback, "moved")
    if not queue.schedule(callback.id, start, end):
        db.session.rollback()
        callback = _callback(callback_id)
        raise Refused(
            "Callback %(id)s is %(status)s: a technician is on it.",
            callback.status,
            id=callback.id,
            status=callback.status,
        )
    if move:
        callback.moves = Callback.moves + 1
    db.session.commit()
    callback = _callback(callback_id)
    window = f"{clock.local(start):%a %d/%m %H:%M}-{clock.local(end):%H:%M}"
    ticket_store().add_note(callback.ticket, f"Callback {'moved' if move else 'scheduled'} to {window} by {by}.")
    log.info("callback %s scheduled for %s by %s", callback.id, window, by)
    return callback


def _cancel(callback_id: int) -> Callback:
    for _ in range(MAX_TRIES):
        callback = _callback(callback_id)
        _refuse_unless_open(callback, "cancelled")
        if callback.status == CallbackStatus.IN_PROGRESS:
            raise Refused(
                "Callback %(id)s is in progress: the technician is calling the customer.",
                callback.status,
                id=callback.id,
            )
        if callback.status == CallbackStatus.WAITING and lifecycle.cancel(callback.id):
            db.session.commit()
            return _callback(callback_id)
        attempt = _ringing_attempt(callback.id) if callback.status == CallbackStatus.OFFERED else None
        # The attempt is ended first: it is what the technician's webhooks compare-and-set on.
        if attempt is not None and attempts.withdrawn(attempt) and lifecycle.cancel_offered(callback.id):
            technicians.release(attempt.technician_id)
            db.session.commit()
            _hang_up(attempt.technician_call_sid)
            triggers.dispatch_now()
            return _callback(callback_id)
        db.session.rollback()
    callback = _callback(callback_id)
    raise Refused(
        "Callback %(id)s changed while being cancelled (now %(status)s); try again.",
        callback.status,
        id=callback.id,
        status=callback.status,
    )


def reprioritise(callback_id: int, priority: int, by: str) -> Callback:
    """Give an open callback another priority; it keeps its first-queued time and so its place among equals."""
    if not isinstance(priority, int) or not 1 <= priority <= 4:
        raise Invalid("The priority is 1 (highest) to 4.")
    callback = _callback(callback_id)
    old = callback.priority
    _refuse_unless_open(callback, "re-prioritised")
    if not set_priority(callback.id, priority):
        db.session.rollback()
        callback = _callback(callback_id)
        _refuse_unless_open(callback, "re-prioritised")
    db.session.commit()
    callback = _callback(callback_id)
    if old != priority:
        ticket_store().add_note(callback.ticket, f"Callback priority changed from P{old} to P{priority} by {by}.")
    return callback


def set_technician_state(technician_id: int, state: str) -> Technician:
    """Available, away or offline, as a person decides; refused while the technician is rung or on a call.

    Going available triggers dispatch, so a waiting callback is offered at once.
    """
    if state not in technicians.MANUAL_TRANSITIONS:
        raise Invalid("state is one of %(states)s", states=", ".join(technicians.MANUAL_TRANSITIONS))
    technician = db.session.get(Technician, technician_id)
    if technician is None:
        raise NotFound("There is no technician %(id)s.", id=technician_id)
    if not technician.active and state != TechnicianState.OFFLINE:
        raise Refused(
            "%(name)s is deactivated; cannot go %(state)s.", technician.state, name=technician.name, state=state
        )
    if not technicians.set_state(technician.id, state):
        db.session.rollback()
        db.session.refresh(technician)
        raise Refused(
            "%(name)s is %(status)s; cannot go %(state)s now.",
            state,
            name=technician.name,
            status=technician.state.replace("_", " "),
            state=state,
        )
    db.session.commit()
    db.session.refresh(technician)
    log.info("%s is now %s", technician.name, state)
    if state == TechnicianState.AVAILABLE:
        triggers.dispatch_now()
    return technician
