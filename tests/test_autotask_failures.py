"""When Autotask refuses, throttles, fails or is slow: clear exceptions, the ticket kept, no duplicate."""

import pytest
from sqlalchemy import select

from app.autotask.client import AutotaskClient, cache
from app.autotask.errors import (
    AutotaskAuthError,
    AutotaskRequestError,
    AutotaskServerError,
    AutotaskThrottled,
    AutotaskTimeout,
    AutotaskUnreachable,
)
from app.extensions import db
from app.models import AutotaskNote, AutotaskTicket, SyncState, Ticket
from app.tickets import ticket_store
from app.tickets.autotask import sync
from tests.helpers import autotask_settings, free_port, run_jobs


@pytest.fixture
def autotask(app, standin):
    app.config.update(autotask_settings(standin))
    return standin


def link_of(ticket: Ticket) -> AutotaskTicket:
    db.session.expire_all()
    return db.session.get(AutotaskTicket, ticket.id)


def wait_over(ticket: Ticket) -> None:
    """Skip the back-off after a failure, as if its time had passed."""
    link = link_of(ticket)
    link.lease_until = None
    db.session.commit()


def test_wrong_credentials_raise_an_auth_error_that_says_what_to_check(app, autotask):
    app.config["AUTOTASK_SECRET"] = "wrong"
    with pytest.raises(AutotaskAuthError) as raised:
        AutotaskClient.for_worker().get("Tickets/1")
    assert raised.value.status == 401
    assert "AUTOTASK_SECRET" in str(raised.value) and "Authentication failed" in str(raised.value)


def test_a_401_keeps_the_ticket_locally_with_a_provisional_number(app, autotask):
    autotask.fail_next(401, when="POST Tickets")
    ticket = ticket_store().create(origin_call_sid="CA1", title="Mail", priority=3)
    assert ticket.number.endswith(".9001") and autotask.tickets == {}
    link = link_of(ticket)
    assert link.sync_state == SyncState.PENDING and "refused the credentials" in link.last_error
    assert "provisional number" in ticket.notes[-1].body
    wait_over(ticket)
    assert sync.sync_pending() == 1
    assert autotask.ticket_by_number(link_of(ticket).ticket.number) is not None


def test_a_refused_record_carries_autotask_s_own_words(app, autotask):
    with pytest.raises(AutotaskRequestError) as raised:
        AutotaskClient.for_worker().post("Tickets", {"title": "no company"})
    assert raised.value.status == 400
    assert "Value does not exist for the required field companyID." in raised.value.messages


def test_429_is_throttling_and_the_ticket_is_pushed_once_the_hour_has_passed(app, standin):
    app.config.update(autotask_settings(standin))
    now = [1000.0]
    standin.clock = lambda: now[0]
    standin.hourly_threshold = 4
    store = ticket_store()
    first = store.create(title="one", priority=4)  # picklists, the create and the read-back: 3 requests
    second = store.create(title="two", priority=4)  # the create is the 4th; its read-back the 5th, refused
    assert link_of(first).sync_state == SyncState.SYNCED
    link = link_of(second)
    assert "hourly request threshold" in link.last_error and link.autotask_id is not None
    with pytest.raises(AutotaskThrottled):
        AutotaskClient.for_worker().get("Tickets/1")
    now[0] += 3601  # a new hour
    wait_over(second)
    assert sync.sync_pending() == 1
    assert len(standin.tickets) == 2
    assert link_of(second).ticket.number == standin.tickets[link_of(second).autotask_id]["ticketNumber"]


def test_500_is_a_server_error_and_the_create_is_looked_up_before_it_is_sent_again(app, autotask):
    autotask.fail_next(500, when="POST Tickets")
    with pytest.raises(AutotaskServerError):
        AutotaskClient.for_worker().post("Tickets", {})
    autotask.fail_next(500, when="POST Tickets")
    ticket = ticket_store().create(title="Backup", priority=2)
    wait_over(ticket)
    assert sync.sync_pending() == 1
    lookups = autotask.api_calls("POST", r".*/Tickets/query")
    assert lookups, "the retry looked for the ticket by its externalID first"
    assert len(autotask.tickets) == 1


def test_a_timeout_is_reported_as_such(app, autotask):
    app.config["AUTOTASK_TIMEOUT_SECONDS"] = 0.3
    autotask.hang_next(2)
    with pytest.raises(AutotaskTimeout, match=r"did not answer GET Tickets/1 within 0\.3 s"):
        AutotaskClient.for_worker().get("Tickets/1")


def test_an_unreachable_instance_is_reported_as_such(app, autotask):
    app.config["AUTOTASK_API_URL"] = f"http://127.0.0.1:{free_port()}/ATServicesRest/V1.0/"
    with pytest.raises(AutotaskUnreachable, match="could not be reached"):
        AutotaskClient.for_worker().get("Tickets/1")


def test_a_create_whose_answer_was_lost_never_makes_a_second_ticket(app, autotask):
    app.config["AUTOTASK_CALLER_SECONDS"] = 1.0
    autotask.lose_next_response(3)
    ticket = ticket_store().create(origin_call_sid="CA9", title="Lost answer", priority=2)

    # Autotask created it, but the caller's request timed out before hearing so.
    assert len(autotask.tickets) == 1
    link = link_of(ticket)
    assert link.autotask_id is None and ticket.number.endswith(".9001")
    assert "did not answer POST Tickets" in link.last_error

    run_jobs(app)  # the sync job: too early, it waits out the back-off (RQ retries it later)
    assert link_of(ticket).autotask_id is None
    wait_over(ticket)
    assert sync.sync_pending() == 1

    [remote] = autotask.tickets.values()
    link = link_of(ticket)
    assert link.autotask_id == remote["id"] and link.ticket.number == remote["ticketNumber"]
    assert len(autotask.api_calls("POST", r"/ATServicesRest/V1\.0/Tickets")) == 1
    # The provisional number the caller heard still finds the ticket.
    assert ticket_store().find(link.provisional_number).id == ticket.id


def test_a_note_whose_answer_was_lost_is_not_added_twice(app, autotask):
    store = ticket_store()
    ticket = store.create(title="Notes", priority=3)
    store.add_note(ticket, "Callback attempt by Jan: customer not reached (no_answer).")
    app.config["AUTOTASK_TIMEOUT_SECONDS"] = 0.5
    autotask.lose_next_response(2, when=r"POST Tickets/\d+/Notes")
    with pytest.raises(AutotaskTimeout):
        sync.sync_ticket(ticket.id)
    wait_over(ticket)
    app.config["AUTOTASK_TIMEOUT_SECONDS"] = 10
    assert sync.sync_ticket(ticket.id)
    remote_id = link_of(ticket).autotask_id
    assert len(autotask.notes_of(remote_id)) == 1
    assert db.session.scalars(select(AutotaskNote)).one().autotask_id == autotask.notes_of(remote_id)[0]["id"]


def test_the_sweep_stops_at_the_first_sign_autotask_is_down(app, autotask):
    tickets = []
    autotask.fail_next(500, count=3, when="POST Tickets")
    for title in ("a", "b", "c"):
        tickets.append(ticket_store().create(title=title, priority=4))
    for ticket in tickets:
        wait_over(ticket)
    calls_before = len(autotask.api_calls())
    autotask.fail_next(500, when=r"POST Tickets/query")
    assert sync.sync_pending() == 0
    assert len(autotask.api_calls()) == calls_before + 1  # one try, not one per ticket
    # The next sweep: the ticket that failed waits out its back-off, the other two go through.
    assert sync.sync_pending() == 2
    assert [link_of(ticket).sync_state for ticket in tickets] == [SyncState.PENDING, SyncState.SYNCED, SyncState.SYNCED]


def test_missing_credentials_never_break_the_call(app, autotask):
    app.config["AUTOTASK_USERNAME"] = ""
    ticket = ticket_store().create(origin_call_sid="CA2", title="Config", priority=4)
    assert ticket.id is not None and "AUTOTASK_USERNAME" in link_of(ticket).last_error
    assert sync.sync_pending() == 0  # logged, never raised into the reconciler


def test_the_zone_is_discovered_once_per_process(app, autotask):
    AutotaskClient.for_worker().get("Tickets/1")
    AutotaskClient.for_worker().get("Tickets/2")
    zone_lookups = [path for _, path in autotask.requests if "zoneinformation" in path.lower()]
    assert zone_lookups == [f"/atservicesrest/v1.0/zoneInformation?user={autotask.username}".replace("@", "%40")]
    assert cache().zone_url == f"{autotask.url}/ATServicesRest/V1.0/"


def test_an_unknown_user_gets_no_zone(app, autotask):
    app.config["AUTOTASK_USERNAME"] = "nobody@example.be"
    with pytest.raises(AutotaskServerError, match="Zone information could not be found"):
        AutotaskClient.for_worker().get("Tickets/1")
