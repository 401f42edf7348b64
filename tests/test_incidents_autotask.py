"""Incidents in Autotask: the incident's ticket a Problem, the callers' tickets Incidents pointing at it."""

import pytest
from sqlalchemy import select

from app.directory import autotask_phones as phones
from app.extensions import db
from app.models import AutotaskTicket, Company, Ticket
from app.tickets import ticket_store
from app.tickets.autotask import sync
from callbacks import incidents
from callbacks.queue import queue_callback
from tests.helpers import autotask_settings, run_jobs

CALLER = "+32470123456"


@pytest.fixture
def autotask(app, standin):
    app.config.update(autotask_settings(standin))
    return standin


def remote(autotask, ticket: Ticket) -> dict:
    db.session.expire_all()
    return autotask.ticket_by_number(db.session.get(Ticket, ticket.id).number)


def test_a_merged_callers_ticket_becomes_an_incident_of_the_problem(app, autotask):
    autotask.add_company("Brouwerij De Klok", phone="03 230 45 67")
    phones.refresh()
    company = Company(name="Brouwerij De Klok")
    db.session.add(company)
    db.session.commit()
    caller_ticket = ticket_store().create(title="No internet", caller_phone=CALLER, company_id=company.id, priority=3)
    callback = queue_callback(caller_ticket, CALLER, 3, "nl")[0]

    incident = incidents.open_incident(company.id, "Internet down", incidents.texts_per_language("x"), by="marie")
    run_jobs(app)
    problem = remote(autotask, incident.ticket)
    assert autotask.label_of("Tickets", "ticketType", problem["ticketType"]) == "Problem"

    incidents.merge(incident.id, callback.id, by="marie")
    run_jobs(app)
    child = remote(autotask, caller_ticket)
    assert autotask.label_of("Tickets", "ticketType", child["ticketType"]) == "Incident"
    assert child["problemTicketId"] == problem["id"]
    notes = [note["description"] for note in autotask.notes_of(child["id"])]
    assert any("Linked to incident ticket" in note for note in notes)
    problem_notes = [note["description"] for note in autotask.notes_of(problem["id"])]
    assert any(f"Ticket {db.session.get(Ticket, caller_ticket.id).number}" in note for note in problem_notes)

    incidents.close(incident.id, incidents.texts_per_language(""), by="marie")
    run_jobs(app)
    for ticket in (incident.ticket, caller_ticket):
        assert autotask.label_of("Tickets", "status", remote(autotask, ticket)["status"]) == "Complete"


def test_a_ticket_linked_before_autotask_had_the_problem_is_linked_once_it_has(app, autotask):
    company = Company(name="Brouwerij De Klok")
    db.session.add(company)
    db.session.commit()
    autotask.fail_next(503, count=50)
    incident = incidents.open_incident(company.id, "Internet down", incidents.texts_per_language("x"), by="marie")
    caller_ticket = ticket_store().create(title="No internet", caller_phone=CALLER, company_id=company.id, priority=3)
    callback = queue_callback(caller_ticket, CALLER, 3, "nl")[0]
    incidents.merge(incident.id, callback.id, by="marie")
    autotask.heal()
    for link in db.session.scalars(select(AutotaskTicket)):
        link.lease_until = None  # the wait after the failures is over
    db.session.commit()
    for _ in range(3):
        sync.sync_pending()
    child = remote(autotask, caller_ticket)
    problem = remote(autotask, incident.ticket)
    assert child["problemTicketId"] == problem["id"]
