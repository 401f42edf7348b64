"""The Autotask path, right: a late transcript reaches Autotask, the follow job keeps the desk's newer
title, and an adopted create PATCHes nothing nobody changed."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.models import AutotaskTicket, Ticket
from app.tickets import ticket_store
from app.tickets.autotask import follow, sync
from tests.helpers import autotask_settings, run_jobs

SID = "CA" + "7" * 32


@pytest.fixture
def autotask(app, standin):
    app.config.update(autotask_settings(standin))
    return standin


def remote_of(standin, ticket: Ticket) -> dict:
    db.session.expire_all()
    return standin.ticket_by_number(db.session.get(Ticket, ticket.id).number)


def test_a_transcript_after_the_ticket_reaches_autotask_and_the_follow_job_keeps_it(app, autotask, provider):
    provider.post("/voice/incoming", call_sid=SID)
    ticket = ticket_store().create(origin_call_sid=SID, title="Problem reported by phone", caller_phone="+32470123456")
    assert remote_of(autotask, ticket)["title"] == "Problem reported by phone"

    answer = provider.post(
        "/voice/transcription",
        call_sid=SID,
        TranscriptionText="The printer on floor two is on fire",
        TranscriptionStatus="completed",
    )
    assert answer.status_code == 200
    run_jobs(app)
    remote = remote_of(autotask, ticket)
    assert remote["title"] == "The printer on floor two is on fire"
    assert remote["description"].startswith("The printer on floor two is on fire\nCaller: +32470123456")

    follow.follow()
    assert db.session.get(Ticket, ticket.id).title == "The printer on floor two is on fire"
    # A title changed inside Autotask afterwards is taken over.
    autotask.tickets[remote["id"]]["title"] = "Printer fire (floor 2)"
    follow.follow()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).title == "Printer fire (floor 2)"


def test_an_adopted_create_patches_nothing_nobody_changed(app, autotask):
    app.config["AUTOTASK_CALLER_SECONDS"] = 1.0
    autotask.lose_next_response(3)
    ticket = ticket_store().create(origin_call_sid="CA9", title="Lost answer", priority=2)
    [remote] = autotask.tickets.values()
    # Meanwhile someone in Autotask sets the ticket's priority.
    autotask.tickets[remote["id"]]["priority"] = 1
    link = db.session.get(AutotaskTicket, ticket.id)
    link.lease_until = None
    db.session.commit()

    assert sync.sync_pending() == 1
    assert autotask.api_calls("PATCH") == []
    assert autotask.tickets[remote["id"]]["priority"] == 1


def test_a_ticket_opened_during_an_outage_waits_at_most_the_maximum_back_off(app, autotask):
    app.config.update(AUTOTASK_CALLER_SECONDS=1.0, AUTOTASK_BACKOFF_SECONDS=15, AUTOTASK_MAX_BACKOFF_SECONDS=60)
    autotask.fail_next(500, count=50, when="POST Tickets")
    ticket = ticket_store().create(origin_call_sid="CA8", title="Opened in the outage", priority=3)
    for _ in range(6):  # a minute of 500s and timeouts: every sweep fails again
        link = db.session.get(AutotaskTicket, ticket.id, populate_existing=True)
        link.lease_until = None
        db.session.commit()
        assert sync.sync_pending() == 0
    link = db.session.get(AutotaskTicket, ticket.id, populate_existing=True)
    assert link.failures >= 6
    waits = (link.lease_until - utcnow()).total_seconds()
    assert 0 < waits <= 60  # not 30 s doubling to half an hour

    autotask.heal()
    link.lease_until = utcnow() - timedelta(seconds=1)  # the back-off has passed
    db.session.commit()
    assert sync.sync_pending() == 1
    assert len(autotask.tickets) == 1  # created exactly once
    assert autotask.api_calls("PATCH") == []
