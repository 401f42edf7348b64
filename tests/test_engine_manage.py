"""Cancel and re-prioritise: engine operations with a clear answer when they cannot be done."""

import xml.etree.ElementTree as ET

import pytest
from rq import Queue
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.queueing import redis_connection
from app.tickets.sql import SqlTicketStore
from callbacks import attempts, jobs, manage
from callbacks.queue import position, queue_callback, waiting
from emulator import Phone
from tests.helpers import add_technician, claim_next

CUSTOMER = "+32470123456"
JAN = "+32471000001"


def waiting_callback(number: str = CUSTOMER, priority: int = 3) -> Callback:
    ticket = SqlTicketStore().create(title="Laptop will not boot", priority=priority)
    return queue_callback(ticket, number, priority, "en")[0]


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def test_cancelling_a_waiting_callback_takes_it_out_of_the_queue(app):
    callback = waiting_callback()
    behind = waiting_callback("+32470999999")
    cancelled = manage.cancel(callback.id, by="test")
    assert (cancelled.status, cancelled.ended_at is not None) == ("cancelled", True)
    assert [c.id for c in waiting()] == [behind.id]
    assert position(fresh(Callback, behind.id)) == 1


def test_cancelling_an_offered_callback_releases_the_technician_and_hangs_up_their_phone(desk):
    jan = add_technician("Jan", JAN)
    desk.emulator.set_phone(JAN, Phone(answer="answer", ring_seconds=10))
    callback = waiting_callback()
    jobs.trigger_dispatch()
    desk.run_jobs()
    assert fresh(Callback, callback.id).status == "offered"
    leg = next(call for call in desk.emulator.calls.values() if call.to == JAN)
    cancelled = manage.cancel(callback.id, by="test")
    assert cancelled.status == "cancelled"
    attempt = db.session.scalars(select(CallbackAttempt)).one()
    assert (attempt.status, attempt.outcome) == ("ended", "cancelled")
    assert fresh(Technician, jan.id).state == "available"
    # Dispatch is triggered: Jan is free for the next caller.
    assert Queue("dispatch", connection=redis_connection()).count == 1
    desk.emulator.wait_idle(timeout=5)
    assert leg.status == "canceled"
    # The leg's final status callback comes after the cancel and counts no miss.
    assert (fresh(Technician, jan.id).state, fresh(Technician, jan.id).missed_offers) == ("available", 0)


def test_a_technician_pressing_1_after_a_cancel_hears_the_offer_is_gone(provider, app):
    add_technician("Jan", JAN)
    callback = waiting_callback()
    offer = claim_next()
    manage.cancel(callback.id, by="test")
    response = provider.post(f"/voice/agent/{offer.id}/choice?try=0", "CA" + "7" * 32, Digits="1")
    assert ET.fromstring(response.data).find("Dial") is None
    assert fresh(Callback, callback.id).status == "cancelled"


def test_a_callback_in_progress_cannot_be_cancelled(app):
    add_technician("Jan", JAN)
    callback = waiting_callback()
    assert attempts.accept(claim_next())
    with pytest.raises(manage.Refused, match="in progress: the technician is calling the customer") as refusal:
        manage.cancel(callback.id, by="test")
    assert refusal.value.status == "in_progress"
    assert fresh(Callback, callback.id).status == "in_progress"


def test_a_final_callback_says_so(app):
    add_technician("Jan", JAN)
    callback = waiting_callback()
    offer = claim_next()
    assert attempts.accept(offer) and attempts.customer_call_ended(offer, "completed", 60, final=True)
    with pytest.raises(manage.Refused, match=f"Callback {callback.id} is already completed; it cannot be cancelled"):
        manage.cancel(callback.id, by="test")
    with pytest.raises(manage.Refused, match="already completed; it cannot be re-prioritised"):
        manage.reprioritise(callback.id, 1, by="test")
    cancelled = waiting_callback("+32470999999")
    manage.cancel(cancelled.id, by="test")
    with pytest.raises(manage.Refused, match="already cancelled") as refusal:
        manage.cancel(cancelled.id, by="test")
    assert refusal.value.status == "cancelled"


def test_an_unknown_callback_is_not_found(app):
    with pytest.raises(manage.NotFound, match="There is no callback 999"):
        manage.cancel(999, by="test")
    with pytest.raises(manage.NotFound):
        manage.reprioritise(999, 2, by="test")


def test_re_prioritising_moves_a_callback_but_keeps_its_first_queued_time(app):
    first = waiting_callback(priority=3)
    later = waiting_callback("+32470999999", priority=4)
    moved = manage.reprioritise(later.id, 1, by="test")
    assert (moved.priority, moved.queued_at) == (1, later.queued_at)
    assert [c.id for c in waiting()] == [later.id, first.id]
    # An offered callback is still open: its new priority counts if it comes back to the queue.
    add_technician("Jan", JAN)
    claim_next()
    assert manage.reprioritise(later.id, 2, by="test").priority == 2


@pytest.mark.parametrize("priority", [0, 5, -1, "1", None])
def test_a_priority_outside_1_to_4_is_refused(app, priority):
    callback = waiting_callback()
    with pytest.raises(ValueError, match="The priority is 1 \\(highest\\) to 4"):
        manage.reprioritise(callback.id, priority, by="test")
    assert fresh(Callback, callback.id).priority == 3
