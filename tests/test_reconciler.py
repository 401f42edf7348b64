"""The cron sweep moves on whatever a lost webhook or a dead worker left behind."""

from datetime import UTC, datetime, timedelta

from rq.registry import ScheduledJobRegistry

from app.clock import utcnow
from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.queueing import queue, redis_connection
from app.tickets.sql import SqlTicketStore
from callbacks import attempts, technicians
from callbacks.queue import queue_callback
from callbacks.reconciler import reconcile
from tests.helpers import add_technician, claim_next


def waiting_callback(number: str = "+32470123456") -> Callback:
    ticket = SqlTicketStore().create(title="VPN broken", priority=3)
    return queue_callback(ticket, number, 3, "en")[0]


def age(attempt: CallbackAttempt, seconds: int) -> None:
    attempt.started_at = utcnow() - timedelta(seconds=seconds)
    db.session.commit()


def test_an_offer_whose_technician_leg_never_reported_is_expired(app):
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"  # nothing to ring afterwards
    callback = waiting_callback()
    technician = add_technician("Jan", "+32470000001")
    attempt = claim_next()
    attempt.technician_call_sid = "CA" + "5" * 32  # rung: the provider took the call
    age(attempt, app.config["STALE_OFFER_SECONDS"] + 1)
    done = reconcile()
    assert done["offers_expired"] == 1
    db.session.expire_all()
    assert db.session.get(CallbackAttempt, attempt.id).outcome == "technician_missed"
    assert db.session.get(Callback, callback.id).status == "waiting"
    assert db.session.get(Technician, technician.id).missed_offers == 1


def test_a_fresh_offer_is_left_alone(app):
    waiting_callback()
    add_technician("Jan", "+32470000001")
    attempt = claim_next()
    assert reconcile()["offers_expired"] == 0
    db.session.expire_all()
    assert db.session.get(CallbackAttempt, attempt.id).status == "ringing_technician"


def test_a_customer_call_with_no_news_for_hours_is_closed_as_failed(app):
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"
    callback = waiting_callback()
    add_technician("Jan", "+32470000001")
    attempt = claim_next()
    assert attempts.accept(attempt)
    age(attempt, app.config["STALE_CALL_SECONDS"] + 1)
    assert reconcile()["calls_expired"] == 1
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "waiting"
    assert db.session.get(Callback, callback.id).attempts == 1


def test_wrap_up_ends_when_its_time_is_over(app):
    technician = add_technician("Jan", "+32470000001", state="on_call")
    assert technicians.start_wrap_up(technician.id)
    db.session.commit()
    assert reconcile()["wrap_ups_ended"] == 1
    db.session.expire_all()
    assert db.session.get(Technician, technician.id).state == "available"


def test_wrap_up_is_kept_while_its_time_runs(app):
    app.config["WRAP_UP_SECONDS"] = 300
    technician = add_technician("Jan", "+32470000001", state="on_call")
    technicians.start_wrap_up(technician.id)
    db.session.commit()
    assert reconcile()["wrap_ups_ended"] == 0
    db.session.expire_all()
    assert db.session.get(Technician, technician.id).state == "wrap_up"


def test_scheduled_jobs_left_overdue_by_a_dead_rq_scheduler_are_queued_by_the_sweep(app):
    """After a Redis restart the workers' RQ schedulers are gone for minutes; retries and timers are not."""
    now = datetime.now(UTC)
    retry = queue("notify").enqueue_at(now - timedelta(seconds=60), "app.tasks.send_text", "+32470123456", "hi")
    timer = queue("dispatch").enqueue_at(now - timedelta(seconds=45), "callbacks.jobs.end_wrap_up", 7)
    just_due = queue("dispatch").enqueue_at(now - timedelta(seconds=5), "callbacks.jobs.end_wrap_up", 8)
    later = queue("dispatch").enqueue_in(timedelta(seconds=60), "callbacks.jobs.end_wrap_up", 9)
    scheduled = ScheduledJobRegistry("dispatch", connection=redis_connection())

    assert reconcile()["overdue_jobs_queued"] == 2
    assert retry.id in queue("notify").job_ids and timer.id in queue("dispatch").job_ids
    # Due only just now, or later: left to the RQ scheduler.
    assert sorted(scheduled.get_job_ids()) == sorted([just_due.id, later.id])
    assert reconcile()["overdue_jobs_queued"] == 0
