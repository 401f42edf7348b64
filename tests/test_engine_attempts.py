"""Attempts: retries at the end of their interval, and the "we tried to reach you" notice after the last one."""

from datetime import UTC

from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt
from app.queueing import redis_connection
from app.tickets.sql import SqlTicketStore
from callbacks import attempts, jobs, notices, triggers
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, claim_next, run_jobs

MOBILE = "+32470123456"
LANDLINE = "+3232000001"


def last_attempt_fails(app, number: str, language: str = "en", contact_id: int | None = None) -> Callback:
    """A callback on its last attempt, whose customer does not answer."""
    ticket = SqlTicketStore().create(title="Mail server down", priority=2, contact_id=contact_id)
    callback = queue_callback(ticket, number, 2, language)[0]
    callback.attempts = app.config["MAX_ATTEMPTS"] - 1
    db.session.commit()
    add_technician("Jan", "+32471000001")
    offer = claim_next()
    assert attempts.accept(offer)
    assert attempts.customer_call_ended(offer, "no-answer", None)
    db.session.expire_all()
    return db.session.get(Callback, callback.id)


def notes(callback: Callback) -> list[str]:
    db.session.expire_all()
    return [note.body for note in db.session.get(Callback, callback.id).ticket.notes]


def test_a_customer_not_reached_is_offered_again_when_the_retry_interval_is_over(app):
    ticket = SqlTicketStore().create(title="VPN", priority=3)
    callback = queue_callback(ticket, MOBILE, 3, "en")[0]
    add_technician("Jan", "+32471000001")
    offer = claim_next()
    assert attempts.accept(offer)
    assert attempts.customer_call_ended(offer, "busy", None)
    db.session.expire_all()
    callback = db.session.get(Callback, callback.id)
    assert (callback.status, callback.attempts) == ("waiting", 1)
    # A dispatch is scheduled for the moment the retry falls due, so it does not wait for a sweep.
    registry = ScheduledJobRegistry(queue=Queue("dispatch", connection=redis_connection()))
    [job_id] = registry.get_job_ids()
    assert Job.fetch(job_id, connection=redis_connection()).func_name == "callbacks.jobs.dispatch"
    due = registry.get_scheduled_time(job_id).astimezone(UTC).replace(tzinfo=None)
    assert abs((due - callback.due_at).total_seconds()) < 2


def test_an_unreachable_mobile_customer_gets_an_sms_in_their_language(desk):
    callback = last_attempt_fails(desk.app, MOBILE, language="nl")
    assert callback.status == "unreachable" and callback.notice_sent_at is None
    desk.run_jobs()
    desk.emulator.wait_idle()
    [sms] = desk.emulator.messages
    assert (sms["to"], sms["from"]) == (MOBILE, "ServiceDesk")
    assert f"3 keer terug te bellen over ticket {callback.ticket.number}" in sms["body"]
    assert "03 460 35 35" in sms["body"]
    assert notes(callback)[-1] == f"Customer told by SMS to {MOBILE} that we could not reach them."
    assert any("given up after 3 attempts" in note for note in notes(callback))


def test_an_unreachable_landline_customer_with_a_mail_address_gets_a_mail(app, mailbox):
    contact = add_contact("Els Vos", LANDLINE, company="Atelier Vos")
    contact.email = "els@vos.example"
    db.session.commit()
    callback = last_attempt_fails(app, LANDLINE, contact_id=contact.id)
    run_jobs(app)
    [mail] = mailbox.messages
    assert mail["To"] == "els@vos.example"
    assert mail["Subject"] == f"We could not reach you about ticket {callback.ticket.number}"
    body = mail.get_content()
    assert "We tried to call you back 3 times on 03 200 00 01" in body and "Mail server down" in body
    assert notes(callback)[-1] == "Customer told by mail to els@vos.example that we could not reach them."


def test_a_customer_we_cannot_write_to_gets_a_note_that_says_so(app):
    callback = last_attempt_fails(app, LANDLINE)
    run_jobs(app)
    assert notes(callback)[-1] == notices.NO_WAY_TO_TELL
    assert db.session.get(Callback, callback.id).notice_sent_at is not None


def test_the_notice_goes_once_however_often_it_is_asked_for(desk):
    callback = last_attempt_fails(desk.app, MOBILE)
    assert triggers.queue_unreachable_notice(callback.id)  # a second request while the first is queued
    assert len(Queue("notify", connection=redis_connection()).get_job_ids()) == 1
    desk.run_jobs()
    assert jobs.send_unreachable_notice(callback.id) is None  # a replayed job
    desk.emulator.wait_idle()
    assert len(desk.emulator.messages) == 1
    assert sum("Customer told" in note for note in notes(callback)) == 1


def test_a_failing_provider_leaves_the_notice_to_the_job_retry(desk):
    callback = last_attempt_fails(desk.app, MOBILE)
    desk.emulator.fail_rest = 500
    desk.run_jobs()
    job = Job.fetch(triggers.notice_job_id(callback.id), connection=redis_connection())
    assert job.get_status() == JobStatus.SCHEDULED  # RQ retries it later
    assert db.session.get(Callback, callback.id).notice_sent_at is None
    desk.emulator.fail_rest = None
    assert jobs.send_unreachable_notice(callback.id) == f"by SMS to {MOBILE}"
    desk.emulator.wait_idle()
    assert len(desk.emulator.messages) == 1


def test_only_customer_outcomes_count_as_attempts(app):
    ticket = SqlTicketStore().create(title="VPN", priority=3)
    callback = queue_callback(ticket, MOBILE, 3, "en")[0]
    add_technician("Jan", "+32471000001")
    app.config["SKIP_COOLDOWN_SECONDS"] = 0
    assert attempts.technician_declined(claim_next(), "technician_missed")
    assert attempts.technician_declined(claim_next(), "technician_skipped")
    assert attempts.offer_failed(claim_next())
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).attempts == 0
    assert len(db.session.scalars(select(CallbackAttempt)).all()) == 3
