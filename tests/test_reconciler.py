"""The cron sweep puts right what a lost webhook, a dead worker or a flushed Redis left behind."""

from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.cron import CronScheduler
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.queueing import queue, redis_connection
from app.tickets.sql import SqlTicketStore
from callbacks import attempts, technicians, triggers
from callbacks.queue import queue_callback
from callbacks.reconciler import reconcile
from tests.helpers import add_technician, claim_next

CUSTOMER = "+32470123456"
NO_PROVIDER = "http://127.0.0.1:1"


def waiting_callback(number: str = CUSTOMER) -> Callback:
    ticket = SqlTicketStore().create(title="Server room too hot", priority=2)
    return queue_callback(ticket, number, 2, "en")[0]


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def started(attempt: CallbackAttempt, seconds_ago: int) -> None:
    attempt.started_at = utcnow() - timedelta(seconds=seconds_ago)
    db.session.commit()


def test_an_offer_whose_technician_leg_never_reported_is_expired(app):
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"  # nothing to ring afterwards
    callback = waiting_callback()
    technician = add_technician("Jan", "+32470000001")
    attempt = claim_next()
    attempt.technician_call_sid = "CA" + "5" * 32  # rung: the provider took the call
    started(attempt, app.config["STALE_OFFER_SECONDS"] + 1)
    done = reconcile()
    assert done["offers_expired"] == 1
    db.session.expire_all()
    assert db.session.get(CallbackAttempt, attempt.id).outcome == "technician_missed"
    assert db.session.get(Callback, callback.id).status == "waiting"
    assert db.session.get(Technician, technician.id).missed_offers == 1


def test_a_customer_call_with_no_news_for_hours_is_closed_as_failed(app):
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"
    callback = waiting_callback()
    add_technician("Jan", "+32470000001")
    attempt = claim_next()
    assert attempts.accept(attempt)
    started(attempt, app.config["STALE_CALL_SECONDS"] + 1)
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


def test_an_offer_that_was_never_rung_is_undone_without_counting_a_miss(app):
    """The dispatcher died between the claim and the call: nobody's fault, the callback keeps its place."""
    app.config["TWILIO_API_BASE_URL"] = NO_PROVIDER
    callback = waiting_callback()
    jan = add_technician("Jan", "+32471000001")
    attempt = claim_next()
    started(attempt, app.config["UNRUNG_OFFER_SECONDS"] + 1)
    assert reconcile()["unrung_offers_undone"] == 1
    assert (fresh(CallbackAttempt, attempt.id).outcome, fresh(Technician, jan.id).missed_offers) == ("not_rung", 0)
    assert fresh(Callback, callback.id).attempts == 0


def test_a_fresh_offer_is_left_alone_and_a_rung_one_is_given_its_ring_time(app):
    app.config["TWILIO_API_BASE_URL"] = NO_PROVIDER
    waiting_callback()
    add_technician("Jan", "+32471000001")
    attempt = claim_next()
    assert reconcile()["offers_expired"] == 0
    assert fresh(CallbackAttempt, attempt.id).status == "ringing_technician"
    attempt = fresh(CallbackAttempt, attempt.id)
    attempt.technician_call_sid = "CA" + "1" * 32
    started(attempt, app.config["UNRUNG_OFFER_SECONDS"] + 1)
    done = reconcile()
    assert (done["unrung_offers_undone"], done["offers_expired"]) == (0, 0)
    assert fresh(CallbackAttempt, attempt.id).status == "ringing_technician"


def test_a_technician_stuck_without_an_attempt_is_freed(app):
    stuck = add_technician("Jan", "+32471000001", state="on_call")
    stuck.state_since = utcnow() - timedelta(hours=1)
    recent = add_technician("Marie", "+32471000002", state="offered")
    db.session.commit()
    assert reconcile()["technicians_freed"] == 1
    assert fresh(Technician, stuck.id).state == "available"
    # Just moved: the sweep leaves it to the transaction that moved it.
    assert fresh(Technician, recent.id).state == "offered"


def test_a_technician_with_an_open_attempt_is_not_stuck(app):
    app.config["TWILIO_API_BASE_URL"] = NO_PROVIDER
    waiting_callback()
    jan = add_technician("Jan", "+32471000001")
    offer = claim_next()
    offer.technician_call_sid = "CA" + "1" * 32
    assert attempts.accept(offer)
    technician = fresh(Technician, jan.id)
    technician.state_since = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert reconcile()["technicians_freed"] == 0
    assert fresh(Technician, jan.id).state == "on_call"


def test_a_callback_stuck_without_an_attempt_goes_back_to_its_place(app):
    callback = waiting_callback()
    queued_at = callback.queued_at
    callback.status = "in_progress"
    callback.status_since = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert reconcile()["callbacks_released"] == 1
    callback = fresh(Callback, callback.id)
    assert (callback.status, callback.queued_at, callback.attempts) == ("waiting", queued_at, 0)


def unreachable_callback(app) -> Callback:
    callback = waiting_callback()
    callback.attempts = app.config["MAX_ATTEMPTS"] - 1
    db.session.commit()
    add_technician("Jan", "+32471000001")
    offer = claim_next()
    assert attempts.accept(offer) and attempts.customer_call_ended(offer, "busy", None)
    callback = fresh(Callback, callback.id)
    callback.ended_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return callback


def test_a_notice_lost_with_a_flushed_redis_is_queued_again(app, redis):
    callback = unreachable_callback(app)
    job_id = triggers.notice_job_id(callback.id)
    assert reconcile()["notices_requeued"] == 0  # still queued: left alone
    redis.flushdb()
    assert not Job.exists(job_id, connection=redis_connection())
    assert reconcile()["notices_requeued"] == 1
    assert Queue("notify", connection=redis_connection()).get_job_ids() == [job_id]


def test_the_sweep_works_with_redis_down(app):
    app.config["TWILIO_API_BASE_URL"] = NO_PROVIDER
    callback = unreachable_callback(app)
    app.extensions.pop("redis", None)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    other = waiting_callback("+32470999999")
    done = reconcile()
    assert done["notices_requeued"] == 0
    assert fresh(Callback, callback.id).notice_sent_at is None  # for the next sweep
    tried = db.session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == other.id)).all()
    assert len(tried) == 1  # it still dispatched


def test_the_cron_process_sweeps_every_reconcile_seconds(app, monkeypatch):
    monkeypatch.setenv("RECONCILE_SECONDS", "7")
    monkeypatch.setenv("TICKET_STORE", "autotask")
    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("callbacks.cron")
    jobs = {f"{j.func.__module__}.{j.func.__name__}": (j.interval, j.queue_name) for j in scheduler.get_jobs()}
    assert jobs["callbacks.jobs.reconcile"] == (7, "dispatch")
    # The rest of the desk's sweeps are jobs of their own, never steps of the reconciler.
    assert jobs["app.surveys.resend_job"] == (60, "notify")
    assert jobs["app.tickets.autotask.sync.sweep_job"] == (7, "notify")
