"""The Autotask ticket store against the local stand-in: lookup, create, notes, close, picklists."""

import re
import time

import pytest
from sqlalchemy import select

from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskConfigError
from app.directory import autotask_phones as phones
from app.extensions import db
from app.models import AutotaskTicket, Survey, SyncState, Ticket
from app.tickets import ticket_store
from app.tickets.autotask import sync
from app.tickets.autotask.store import AutotaskTicketStore
from app.tickets.sql import SqlTicketStore
from tests.helpers import autotask_settings, run_jobs

CALLER = "+32470123456"


@pytest.fixture
def autotask(app, standin):
    app.config.update(autotask_settings(standin))
    return standin


def link_of(ticket: Ticket) -> AutotaskTicket:
    db.session.expire_all()
    return db.session.get(AutotaskTicket, ticket.id)


def test_the_store_is_chosen_by_configuration(app, autotask):
    assert isinstance(ticket_store(), AutotaskTicketStore)
    app.config["TICKET_STORE"] = "sql"
    assert type(ticket_store()) is SqlTicketStore
    app.config["TICKET_STORE"] = "jira"
    with pytest.raises(ValueError, match="'sql' or 'autotask'"):
        ticket_store()


def test_a_new_ticket_is_created_in_autotask_with_its_number_read_back(app, autotask):
    company = autotask.add_company("Brouwerij De Klok", phone="03 230 45 67")
    contact = autotask.add_contact(company, "An", "Peeters", email="an@deklok.example", mobile="+32 (0)470 12 34 56")
    phones.refresh()

    ticket = ticket_store().create(
        origin_call_sid="CA1", title="Mail server down", caller_phone=CALLER, priority=1, urgency="cannot_work"
    )

    remote = autotask.ticket_by_number(ticket.number)
    assert remote is not None and re.fullmatch(r"T\d{8}\.\d{4}", ticket.number)
    assert (remote["companyID"], remote["contactID"], remote["title"]) == (company, contact, "Mail server down")
    # Picklists by label: P1 is "Critical", which a default instance numbers 4.
    labels = {name: autotask.label_of("Tickets", name, remote[name]) for name in ("status", "priority", "source")}
    assert labels == {"status": "New", "priority": "Critical", "source": "Phone"}
    assert autotask.label_of("Tickets", "queueID", remote["queueID"]) == "Level I Support"
    assert remote["externalID"] == link_of(ticket).reference
    assert "Caller: +32470123456" in remote["description"] and remote["dueDateTime"]
    link = link_of(ticket)
    assert (link.autotask_id, link.sync_state, link.lease_until) == (remote["id"], SyncState.SYNCED, None)
    # Zone discovery once, then the create and the read-back of the number.
    assert [path.split("?")[0].lower() for _, path in autotask.requests].count(
        "/atservicesrest/v1.0/zoneinformation"
    ) == 1
    assert len(autotask.api_calls("POST", r"/ATServicesRest/V1\.0/Tickets")) == 1


def test_a_replayed_create_for_the_same_call_creates_nothing_new(app, autotask):
    first = ticket_store().create(origin_call_sid="CA1", title="A", priority=3)
    again = ticket_store().create(origin_call_sid="CA1", title="A", priority=3)
    assert again.id == first.id
    assert len(autotask.tickets) == 1


def test_an_unknown_caller_goes_to_the_default_company(app, autotask):
    ticket = ticket_store().create(title="Who am I", caller_phone="+32499000000", priority=4)
    assert autotask.ticket_by_number(ticket.number)["companyID"] == 0


def test_lookup_by_number_finds_a_ticket_opened_in_autotask(app, autotask):
    company = autotask.add_company("Transports Lemaire")
    client_side = AutotaskClient.for_worker()
    item_id = client_side.post(
        "Tickets",
        {"title": "VPN", "companyID": company, "status": 8, "priority": 2, "dueDateTime": "2026-12-01T10:00:00Z"},
    )["itemId"]
    number = autotask.tickets[item_id]["ticketNumber"]

    ticket = ticket_store().find(number)

    assert (ticket.number, ticket.title, ticket.status, ticket.priority) == (number, "VPN", "in_progress", 3)
    assert link_of(ticket).autotask_id == item_id
    sent = autotask.api_calls("POST", r"/ATServicesRest/V1\.0/Tickets/query")
    assert sent, "the lookup is a Tickets/query"
    assert ticket_store().find("T20000101.0001") is None
    # Found again: now from the local mirror, refreshed by id rather than searched for.
    assert ticket_store().find(number).id == ticket.id


def test_the_lookup_filters_on_ticket_number_with_eq(app, autotask):
    bodies: list[dict] = []
    original = AutotaskClient.post

    def spy(self, path, body):
        bodies.append({"path": path, **body})
        return original(self, path, body)

    AutotaskClient.post = spy
    try:
        ticket_store().find("T20261127.0042")
    finally:
        AutotaskClient.post = original
    assert bodies == [
        {
            "path": "Tickets/query",
            "filter": [{"op": "eq", "field": "ticketNumber", "value": "T20261127.0042"}],
            "maxRecords": 1,
        }
    ]


def test_a_status_changed_in_autotask_is_read_back_on_lookup(app, autotask):
    ticket = ticket_store().create(title="Printer", priority=4)
    remote = autotask.ticket_by_number(ticket.number)
    autotask.tickets[remote["id"]]["status"] = 7  # a technician set "Waiting Customer" in Autotask
    assert ticket_store().find(ticket.number).status == "waiting_customer"


def test_notes_and_closing_reach_autotask_through_the_sync_job(app, autotask, mailbox):
    store = ticket_store()
    ticket = store.create(title="Screen", priority=3, caller_phone=CALLER)
    store.add_note(ticket, "Called back by Jan Janssens: connected (42 s).")
    store.set_status(ticket, "in_progress")
    assert link_of(ticket).sync_state == SyncState.PENDING
    run_jobs(app)

    remote = autotask.ticket_by_number(ticket.number)
    [note] = autotask.notes_of(remote["id"])
    assert note["description"] == "Called back by Jan Janssens: connected (42 s)."
    assert autotask.label_of("TicketNotes", "noteType", note["noteType"]) == "Task Notes"
    assert autotask.label_of("TicketNotes", "publish", note["publish"]) == "Internal Only"
    assert autotask.label_of("Tickets", "status", remote["status"]) == "In Progress"
    assert link_of(ticket).sync_state == SyncState.SYNCED

    store.close(ticket)
    run_jobs(app)
    remote = autotask.ticket_by_number(ticket.number)
    assert autotask.label_of("Tickets", "status", remote["status"]) == "Complete"
    assert remote["completedDate"] is not None
    assert db.session.scalars(select(Survey)).one().ticket_id == ticket.id


def test_a_running_sync_holds_the_ticket_so_notes_are_never_pushed_twice(app, autotask):
    store = ticket_store()
    ticket = store.create(title="Laptop", priority=3)
    store.add_note(ticket, "first")
    assert sync.claim(ticket.id)  # another worker is pushing this ticket
    db.session.commit()
    with pytest.raises(sync.SyncBusy):
        sync.sync_ticket(ticket.id)
    assert autotask.notes_of(autotask.ticket_by_number(ticket.number)["id"]) == []


def test_a_change_made_while_pushing_keeps_the_ticket_pending(app, autotask):
    store = ticket_store()
    ticket = store.create(title="Laptop", priority=3)
    changes_seen = link_of(ticket).changes
    store.add_note(ticket, "arrived during the push")
    assert not sync.finish(ticket.id, changes_seen)
    assert link_of(ticket).sync_state == SyncState.PENDING


def test_picklists_are_mapped_by_label_whatever_their_ids(app, autotask):
    # An administrator renumbered the priorities and renamed one: the labels still decide.
    autotask.set_picklist(
        "Tickets",
        "priority",
        [
            {"value": "11", "label": "Low", "isActive": True},
            {"value": "12", "label": "Medium", "isActive": True},
            {"value": "13", "label": "High", "isActive": True},
            {"value": "14", "label": "Critical", "isActive": False},
            {"value": "15", "label": "Urgent", "isActive": True},
        ],
    )
    app.config["AUTOTASK_PRIORITY_LABELS"] = {1: "urgent", 2: "High", 3: "Medium", 4: "Low"}
    ticket = ticket_store().create(title="Site down", priority=1)
    assert autotask.ticket_by_number(ticket.number)["priority"] == 15


def test_a_label_the_instance_lacks_is_a_clear_error_and_the_ticket_waits(app, autotask):
    app.config["AUTOTASK_PRIORITY_LABELS"] = {1: "Critical", 2: "High", 3: "Medium", 4: "Whenever"}
    ticket = ticket_store().create(title="Mouse", priority=4)
    assert autotask.tickets == {}
    link = link_of(ticket)
    assert link.sync_state == SyncState.PENDING and ticket.number.endswith(".9001")
    assert "no active value labelled 'Whenever'" in link.last_error
    assert "'Critical'" in link.last_error  # the labels it does have are listed
    with pytest.raises(AutotaskConfigError):
        sync.push(ticket, link, AutotaskClient.for_worker())


def test_an_inactive_value_is_never_used(app, autotask):
    # "Waiting Customer" exists twice: the first one is inactive.
    ticket = ticket_store().create(title="Phone", priority=4)
    ticket_store().set_status(ticket, "waiting_customer")
    run_jobs(app)
    assert autotask.ticket_by_number(ticket.number)["status"] == 7


def test_pushes_wait_after_a_failure_and_the_sweep_catches_up(app, autotask):
    autotask.fail_next(500, when="POST Tickets")
    ticket = ticket_store().create(title="Backup failed", priority=2)
    assert autotask.tickets == {}
    link = link_of(ticket)
    assert link.failures == 1 and link.lease_until is not None
    assert sync.sync_pending() == 0  # still waiting out its back-off
    link.lease_until = None
    db.session.commit()
    assert sync.sync_pending() == 1
    remote = autotask.ticket_by_number(link_of(ticket).ticket.number)
    assert remote is not None and len(autotask.tickets) == 1
    notes = [note["description"] for note in autotask.notes_of(remote["id"])]
    assert any("provisional number" in note and ticket.number not in note for note in notes)


def test_the_sweep_does_nothing_for_the_sql_store(app, autotask):
    ticket = ticket_store().create(title="x", priority=4)
    app.config["TICKET_STORE"] = "sql"
    link = link_of(ticket)
    link.sync_state, link.lease_until = SyncState.PENDING, None
    db.session.commit()
    assert sync.sync_pending() == 0


def test_the_client_pages_through_query_results(app, autotask):
    company = autotask.add_company("Atelier Vos")
    for number in range(5):
        autotask.add_contact(company, "Contact", str(number))
    contacts = AutotaskClient.for_worker().query(
        "Contacts", [{"op": "eq", "field": "companyID", "value": company}], max_records=2
    )
    assert [contact["lastName"] for contact in contacts] == ["0", "1", "2", "3", "4"]
    assert len(autotask.api_calls("GET", r".*/Contacts/query/next")) == 2


def test_a_slow_autotask_costs_a_caller_no_more_than_the_budget(app, autotask):
    app.config["AUTOTASK_CALLER_SECONDS"] = 1.0
    autotask.hang_next(5, when="POST Tickets")
    started = time.monotonic()
    ticket = ticket_store().create(title="Slow", priority=3)
    assert time.monotonic() - started < 2.0
    assert "did not answer POST Tickets" in link_of(ticket).last_error


def test_a_ticket_from_before_the_switch_steps_aside_for_autotask_s_number(app, autotask):
    app.config["TICKET_STORE"] = "sql"
    old = ticket_store().create(title="Opened before the switch", priority=4)  # T<today>.0001
    app.config["TICKET_STORE"] = "autotask"
    new = ticket_store().create(title="Opened after it", priority=4)  # Autotask's first number today: the same
    db.session.expire_all()
    assert new.number == autotask.ticket_by_number(new.number)["ticketNumber"]
    old = db.session.get(Ticket, old.id)
    assert old.number == f"{new.number}-desk"
    assert old.notes[-1].body == f"Renumbered from {new.number}: Autotask gave that number to another ticket."
