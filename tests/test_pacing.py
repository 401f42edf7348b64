"""Outbound calls are paced to the account's calls per second, in queue order, and no offer
expires because it waited its turn."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt
from app.tickets.sql import SqlTicketStore
from callbacks.dispatch import dispatch
from callbacks.queue import queue_callback
from callbacks.reconciler import reconcile
from tests.helpers import add_technician

TECHNICIANS = 40


@pytest.fixture
def desk_settings():
    # Short bounds: an offer counted from its claim, or an unrung offer not allowed its pacing,
    # would be expired or undone by the sweep running beside the dispatcher.
    return {"TWILIO_CPS": 2, "STALE_OFFER_SECONDS": 6, "UNRUNG_OFFER_SECONDS": 4}


def test_forty_technicians_available_at_once_are_rung_two_calls_a_second_in_queue_order(desk):
    store = SqlTicketStore()
    for number in range(TECHNICIANS):
        ticket = store.create(title=f"Problem {number}", priority=3)
        callback, _ = queue_callback(ticket, f"+3247500{number:04d}", 3, "en")
        callback.queued_at -= timedelta(minutes=TECHNICIANS - number)  # callback 0 first in the queue
        add_technician(f"Tech {number}", f"+3247100{number:04d}", languages="en")
    db.session.commit()

    sweeping = threading.Event()
    problems: list[BaseException] = []

    def sweep() -> None:
        with desk.app.app_context():
            while not sweeping.is_set():
                try:
                    reconcile()
                except BaseException as error:
                    problems.append(error)
                db.session.remove()
                sweeping.wait(1)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        assert dispatch() > 0  # the sweep's own dispatch may ring some of them
    finally:
        sweeping.set()
        sweeper.join()
    assert problems == []
    assert desk.emulator.wait_idle(timeout=30)

    legs = sorted(
        (c for c in desk.emulator.calls.values() if c.direction == "outbound-api"), key=lambda c: c.date_created
    )
    assert len(legs) == TECHNICIANS
    for earlier, later in zip(legs, legs[2:], strict=False):
        # At most two creations in any one second. The emulator stamps a call when its request
        # arrives, after a trip through a busy machine's scheduler; the desk spaces them 1.15 s.
        # Unpaced, forty would arrive within a second or two and fail this by far.
        assert later.date_created - earlier.date_created >= timedelta(seconds=0.8)
    db.session.expire_all()
    by_sid = {a.technician_call_sid: a for a in db.session.scalars(select(CallbackAttempt))}
    queued = [by_sid[leg.sid].callback.queued_at for leg in legs]
    assert queued == sorted(queued)  # placed in queue order
    outcomes = {a.outcome for a in by_sid.values()}
    assert outcomes == {"connected"}  # none expired, none undone while waiting its turn
    assert {c.status for c in db.session.scalars(select(Callback))} == {"completed"}
