"""Whole calls through the Twilio emulator: the customer phones in, is queued,
a technician is rung, presses 1, and the customer is called back."""

import os
import subprocess
import sys
import time

from sqlalchemy import select

from app.extensions import db
from app.models import Call, Callback, CallbackAttempt, Technician, Ticket
from callbacks.reconciler import reconcile
from emulator import APP_ERROR_MESSAGE, Phone
from tests.helpers import add_contact, add_technician

CUSTOMER = "+32470123456"
JAN = "+32470000001"
MARIE = "+32470000002"


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def phone_in(desk, keys, caller=CUSTOMER):
    call = desk.emulator.place_inbound_call(from_=caller, keys=keys)
    desk.emulator.wait_idle()
    assert call.errors == []
    assert APP_ERROR_MESSAGE not in call.heard
    return call


def test_a_phoned_in_problem_becomes_a_completed_callback(desk):
    add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok")
    jan = add_technician("Jan Janssens", JAN, languages="en")
    # Jan lets it ring a few seconds: long enough to see the offer before he answers, even on a busy machine.
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"], ring_seconds=4.0))
    desk.emulator.set_phone(CUSTOMER, Phone(answer="answer", talk_seconds=42))

    inbound = phone_in(desk, ["2", "printer on fire#", "1", "1", "1"])
    heard = " ".join(inbound.heard)
    assert "Hello An Peeters, of Brouwerij De Klok." in heard
    assert "You are number 1 in the callback queue." in heard
    assert inbound.status == "completed"
    # Step 1: a ticket and a waiting callback; the inbound call is recorded as ended.
    ticket = db.session.scalars(select(Ticket)).one()
    callback = db.session.scalars(select(Callback)).one()
    assert (ticket.priority, callback.status, callback.phone) == (4, "waiting", CUSTOMER)
    assert ticket.recording_url and ticket.contact.name == "An Peeters"
    assert db.session.scalars(select(Call)).one().ended_at is not None

    # Step 2: a worker dispatches; Jan's phone rings with the offer.
    desk.run_jobs()
    assert fresh(Callback, callback.id).status == "offered"
    assert fresh(Technician, jan.id).state == "offered"

    # Step 3: Jan answers, hears the whisper, presses 1; the customer answers and talks.
    desk.emulator.wait_idle(timeout=15)
    attempt = db.session.scalars(select(CallbackAttempt)).one()
    assert (attempt.outcome, attempt.talk_seconds) == ("connected", 42)
    assert fresh(Callback, callback.id).status == "completed"
    assert fresh(Technician, jan.id).state == "wrap_up"
    technician_leg = next(c for c in desk.emulator.calls.values() if c.to == JAN)
    assert any("Callback for An Peeters, Brouwerij De Klok, priority 4." in line for line in technician_leg.heard)
    customer_leg = next(c for c in desk.emulator.calls.values() if c.to == CUSTOMER)
    assert customer_leg.from_ == "+3234603535"

    # Step 4: wrap-up ends (WRAP_UP_SECONDS=0 here) and Jan is available again.
    reconcile()
    assert fresh(Technician, jan.id).state == "available"
    assert "connected (42 s)" in fresh(Ticket, ticket.id).notes[-1].body


def test_a_customer_who_does_not_answer_waits_for_a_retry(desk):
    jan = add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, Phone(answer="no-answer"))
    phone_in(desk, ["3", "2", "#", "2", "1", "1"])
    desk.run_jobs()
    desk.emulator.wait_idle(timeout=15)
    callback = db.session.scalars(select(Callback)).one()
    assert (callback.status, callback.attempts, callback.priority) == ("waiting", 1, 3)
    assert callback.due_at > callback.queued_at
    assert db.session.scalars(select(CallbackAttempt)).one().outcome == "no_answer"
    assert fresh(Technician, jan.id).state == "available"
    # Not due yet: dispatching again offers nothing.
    desk.run_jobs()
    desk.emulator.wait_idle()
    assert len(db.session.scalars(select(CallbackAttempt)).all()) == 1


def test_a_missed_offer_goes_to_the_next_technician(desk):
    jan = add_technician("Jan Janssens", JAN, languages="en")
    marie = add_technician("Marie Dubois", MARIE, languages="en")
    jan.state_since = marie.state_since.replace(year=2020)  # Jan has been idle longest: he is rung first
    db.session.commit()
    desk.emulator.set_phone(JAN, Phone(answer="no-answer"))
    desk.emulator.set_phone(MARIE, Phone(answer="answer", keys=["1"]))
    phone_in(desk, ["3", "2", "#", "2", "2", "1"])
    for _ in range(3):  # the miss comes back as a status callback that triggers dispatch again
        desk.run_jobs()
        desk.emulator.wait_idle(timeout=15)
    outcomes = [
        (a.technician_id, a.outcome) for a in db.session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id))
    ]
    assert outcomes == [(jan.id, "technician_missed"), (marie.id, "connected")]
    callback = db.session.scalars(select(Callback)).one()
    assert (callback.status, callback.attempts, callback.priority) == ("completed", 1, 2)
    assert fresh(Technician, jan.id).missed_offers == 1


def test_a_real_rq_worker_process_works_the_queue(desk):
    add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"]))
    worker = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", "--url", desk.app.config["REDIS_URL"], "dispatch", "notify"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        phone_in(desk, ["3", "2", "#", "2", "2", "1"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.scalars(select(Callback)).one().status == "completed":
                break
            time.sleep(0.2)
        callback = db.session.scalars(select(Callback)).one()
        assert (callback.status, callback.priority) == ("completed", 2)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
