"""Changes made inside Autotask reach the desk without anyone looking the ticket up."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AutotaskTicket, Survey, SyncState, Ticket
from app.tickets import ticket_store
from app.tickets.autotask import follow
from tests.helpers import autotask_settings, run_jobs

COMPLETE, WAITING_CUSTOMER = 5, 7  # the stand-in's picklist values


@pytest.fixture
def autotask(app, standin):
    app.config.update(autotask_settings(standin))
    return standin


def fresh(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def test_a_ticket_completed_in_autotask_is_closed_and_its_customer_gets_the_survey(app, autotask, mailbox):
    ticket = ticket_store().create(title="Printer", priority=3, caller_phone="+32470123456")
    remote = autotask.ticket_by_number(ticket.number)
    autotask.tickets[remote["id"]]["status"] = COMPLETE  # a technician completed it in Autotask
    autotask.tickets[remote["id"]]["title"] = "Printer: toner replaced"

    assert follow.follow_job() == {"read": 1, "changed": 1, "closed": 1}

    ticket = fresh(ticket)
    assert (ticket.status, ticket.title) == ("closed", "Printer: toner replaced")
    assert ticket.closed_at is not None
    assert db.session.scalars(select(Survey)).one().ticket_id == ticket.id
    assert db.session.get(AutotaskTicket, ticket.id).sync_state == SyncState.SYNCED  # nothing to push back
    assert follow.follow_job() == {"read": 0, "changed": 0, "closed": 0}  # closed tickets are not followed
    run_jobs(app)
    assert len(db.session.scalars(select(Survey)).all()) == 1


def test_open_tickets_are_read_back_a_few_hundred_per_request(app, autotask, monkeypatch):
    monkeypatch.setattr(follow, "IDS_PER_QUERY", 2)
    tickets = [ticket_store().create(title=f"Ticket {n}", priority=4) for n in range(5)]
    waiting = autotask.ticket_by_number(tickets[3].number)
    autotask.tickets[waiting["id"]]["status"] = WAITING_CUSTOMER
    before = len(autotask.api_calls("POST", r".*Tickets/query"))

    assert follow.follow() == {"read": 5, "changed": 1, "closed": 0}

    assert len(autotask.api_calls("POST", r".*Tickets/query")) - before == 3  # 5 tickets, 2 per query
    assert [fresh(t).status for t in tickets] == ["new", "new", "new", "waiting_customer", "new"]
    assert db.session.scalars(select(Survey)).first() is None


def test_a_ticket_with_a_change_of_the_desks_own_to_push_is_left_to_the_push(app, autotask):
    store = ticket_store()
    ticket = store.create(title="VPN", priority=2)
    remote = autotask.ticket_by_number(ticket.number)
    store.set_status(ticket, "in_progress")  # pending: not pushed yet
    autotask.tickets[remote["id"]]["status"] = COMPLETE
    assert follow.follow() == {"read": 0, "changed": 0, "closed": 0}
    assert fresh(ticket).status == "in_progress"


def test_autotask_unavailable_waits_for_the_next_run(app, autotask):
    ticket_store().create(title="Mail", priority=3)
    autotask.fail_next(500, count=5)
    assert follow.follow_job() == {"read": 0, "changed": 0, "closed": 0}


def test_nothing_is_asked_with_the_sql_store(app, standin):
    before = len(standin.api_calls())
    assert follow.follow_job() == {"read": 0, "changed": 0, "closed": 0}
    assert len(standin.api_calls()) == before


def test_a_lookup_of_a_ticket_completed_in_autotask_closes_it_with_its_survey(app, autotask):
    ticket = ticket_store().create(title="Laptop", priority=3)
    remote = autotask.ticket_by_number(ticket.number)
    autotask.tickets[remote["id"]]["status"] = COMPLETE
    assert ticket_store().find(ticket.number).status == "closed"
    assert db.session.scalars(select(Survey)).one().ticket_id == ticket.id
