"""The technician state machine: skips, misses in a row, the wrap-up timer, and what a person may change."""

from datetime import UTC, timedelta

from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import AttemptOutcome, Callback, CallbackAttempt, Technician
from app.queueing import redis_connection
from app.tickets.sql import SqlTicketStore
from callbacks import attempts, jobs, technicians
from callbacks.queue import queue_callback
from emulator import Phone
from tests.helpers import add_technician, claim_next

CUSTOMER = "+32470123456"
JAN = "+32471000001"
MARIE = "+32471000002"


def waiting_callback(number: str = CUSTOMER, priority: int = 3) -> Callback:
    ticket = SqlTicketStore().create(title="Printer offline", priority=priority)
    return queue_callback(ticket, number, priority, "en")[0]


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def idle_since(technician: Technician, minutes: int) -> None:
    technician.state_since = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


def test_a_skip_hands_the_callback_to_the_next_technician_at_once_and_is_no_attempt(desk):
    jan = add_technician("Jan", JAN)
    marie = add_technician("Marie", MARIE)
    idle_since(jan, 10)  # Jan is rung first
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["2"]))
    desk.emulator.set_phone(MARIE, Phone(answer="answer", keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, Phone(answer="answer", talk_seconds=60))
    callback = waiting_callback()
    jobs.trigger_dispatch()
    for _ in range(2):  # the skip triggers the second dispatch
        desk.run_jobs()
        desk.emulator.wait_idle(timeout=15)
    tries = db.session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id)).all()
    assert [(a.technician_id, a.outcome) for a in tries] == [
        (jan.id, AttemptOutcome.TECHNICIAN_SKIPPED),
        (marie.id, AttemptOutcome.CONNECTED),
    ]
    assert (fresh(Callback, callback.id).status, fresh(Callback, callback.id).attempts) == ("completed", 1)
    assert fresh(Technician, jan.id).state == "available"


def test_a_callback_is_not_offered_again_to_the_technician_who_skipped_it(app):
    jan = add_technician("Jan", JAN)
    skipped = waiting_callback(priority=1)
    offer = claim_next()
    assert attempts.technician_declined(offer, AttemptOutcome.TECHNICIAN_SKIPPED)
    # Jan is the only one free: he gets the next caller, the skipped one waits for a colleague.
    other = waiting_callback("+32470999999", priority=4)
    assert claim_next().callback_id == other.id
    assert fresh(Callback, skipped.id).status == "waiting"
    second = db.session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == other.id)).one()
    assert attempts.technician_declined(second, AttemptOutcome.TECHNICIAN_SKIPPED)
    assert claim_next() is None
    marie = add_technician("Marie", MARIE)
    assert claim_next().technician_id == marie.id
    # After the cooldown Jan may be offered the callback he skipped.
    app.config["SKIP_COOLDOWN_SECONDS"] = 0
    assert claim_next().technician_id == jan.id


def test_two_missed_offers_in_a_row_set_a_technician_away(app):
    jan = add_technician("Jan", JAN)
    waiting_callback()
    assert attempts.technician_declined(claim_next(), AttemptOutcome.TECHNICIAN_MISSED)
    assert (fresh(Technician, jan.id).state, fresh(Technician, jan.id).missed_offers) == ("available", 1)
    assert attempts.technician_declined(claim_next(), AttemptOutcome.TECHNICIAN_MISSED)
    assert (fresh(Technician, jan.id).state, fresh(Technician, jan.id).missed_offers) == ("away", 2)
    assert claim_next() is None


def test_a_skip_or_an_accept_ends_the_run_of_misses(app):
    jan = add_technician("Jan", JAN)
    app.config["SKIP_COOLDOWN_SECONDS"] = 0
    waiting_callback()
    assert attempts.technician_declined(claim_next(), AttemptOutcome.TECHNICIAN_MISSED)
    assert attempts.technician_declined(claim_next(), AttemptOutcome.TECHNICIAN_SKIPPED)
    assert fresh(Technician, jan.id).missed_offers == 0
    assert attempts.technician_declined(claim_next(), AttemptOutcome.TECHNICIAN_MISSED)
    assert fresh(Technician, jan.id).missed_offers == 1
    assert attempts.accept(claim_next())
    assert (fresh(Technician, jan.id).state, fresh(Technician, jan.id).missed_offers) == ("on_call", 0)


def test_the_wrap_up_timer_makes_the_technician_available_and_dispatches(app):
    app.config["WRAP_UP_SECONDS"] = 120
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"  # no provider: an offer's ring fails at once
    jan = add_technician("Jan", JAN)
    waiting_callback()
    offer = claim_next()
    assert attempts.accept(offer)
    assert attempts.customer_call_ended(offer, "completed", 300, final=True)
    technician = fresh(Technician, jan.id)
    assert technician.state == "wrap_up"
    assert technician.wrap_up_until - utcnow() > timedelta(seconds=110)
    # The timer is a job scheduled for the end of the wrap-up.
    registry = ScheduledJobRegistry(queue=Queue("dispatch", connection=redis_connection()))
    [job_id] = registry.get_job_ids()
    job = Job.fetch(job_id, connection=redis_connection())
    assert (job.func_name, job.args) == ("callbacks.jobs.end_wrap_up", (jan.id,))
    due = registry.get_scheduled_time(job_id).astimezone(UTC).replace(tzinfo=None)
    assert abs((due - technician.wrap_up_until).total_seconds()) < 2
    next_caller = waiting_callback("+32470999999")
    # Too early (a replayed or early job): nothing moves.
    assert jobs.end_wrap_up(jan.id) == 0
    assert fresh(Technician, jan.id).state == "wrap_up"
    technician.wrap_up_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    jobs.end_wrap_up(jan.id)
    # It dispatched: Jan was offered the next caller (the ring failed here, so the offer was undone).
    offered = db.session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == next_caller.id)).one()
    assert (offered.technician_id, offered.outcome) == (jan.id, AttemptOutcome.NOT_RUNG)
    assert fresh(Technician, jan.id).state == "available"


def test_nobody_can_set_a_technician_who_is_being_rung_or_on_a_call(app):
    jan = add_technician("Jan", JAN)
    waiting_callback()
    offer = claim_next()
    for state in ("available", "away", "offline"):
        assert not technicians.set_state(jan.id, state)
    assert attempts.accept(offer)
    assert not technicians.set_state(jan.id, "away")
    assert fresh(Technician, jan.id).state == "on_call"
