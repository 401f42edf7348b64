"""The cron process's sweeps of the Autotask sync and the surveys: jobs of their own, never Autotask inline."""

from datetime import timedelta

from sqlalchemy import select

from app import surveys
from app.clock import utcnow
from app.extensions import db
from app.models import AutotaskTicket, Contact, Survey, SurveyState, SyncState
from app.tickets import ticket_store
from app.tickets.autotask import sync
from tests.helpers import autotask_settings, run_jobs


def test_the_cron_sweep_queues_one_push_of_waiting_tickets(app, standin, redis):
    app.config.update(autotask_settings(standin))
    standin.fail_next(503, when="POST Tickets")
    ticket = ticket_store().create(title="Queued while down", priority=3)
    link = db.session.get(AutotaskTicket, ticket.id)
    link.lease_until = utcnow() - timedelta(seconds=1)  # its back-off is over
    db.session.commit()
    redis.flushdb()  # the sync job is lost with Redis

    assert sync.sweep_job() == 1
    assert sync.sweep_job() == 0  # one sweep at a time
    assert standin.tickets == {}  # the cron's sweep itself never waits for Autotask
    run_jobs(app)
    db.session.expire_all()
    assert db.session.get(AutotaskTicket, ticket.id).sync_state == SyncState.SYNCED
    assert len(standin.tickets) == 1
    assert sync.sweep_job() == 0  # nothing waits any more


def test_no_sweep_is_queued_for_the_sql_store(app, redis):
    ticket_store().create(title="Local", priority=3)
    assert sync.sweep_job() == 0


def test_the_cron_sweep_requeues_a_survey_whose_job_was_lost(app, redis, mailbox):
    contact = Contact(name="An Peeters", email="an@deklok.example", language="nl")
    db.session.add(contact)
    db.session.commit()
    ticket = ticket_store().create(title="Mail", priority=3, contact_id=contact.id)
    ticket_store().close(ticket)
    redis.flushdb()
    survey = db.session.scalars(select(Survey)).one()
    survey.state_since = utcnow() - timedelta(minutes=10)
    db.session.commit()

    assert surveys.resend_job() == 1
    run_jobs(app)
    assert len(mailbox.messages) == 1
    db.session.expire_all()
    assert db.session.scalars(select(Survey)).one().state == SurveyState.SENT
