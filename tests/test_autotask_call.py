"""A whole call with TICKET_STORE=autotask: the Twilio emulator phones the desk, the ticket lives in the
Autotask stand-in, and the callback, its notes and the ticket end up in both."""

import pytest
from sqlalchemy import select

from app.directory import autotask_phones as phones
from app.extensions import db
from app.models import AutotaskTicket, Callback, CallbackAttempt, SyncState, Ticket
from app.tickets import ticket_store
from app.tickets.autotask import sync
from callbacks.reconciler import reconcile
from emulator import APP_ERROR_MESSAGE, Phone
from ivr import catalog
from tests.helpers import add_technician, autotask_settings

CUSTOMER = "+32470123456"
JAN = "+32470000001"
#: An unknown caller picks English, reports a problem, can keep working, only them, confirms the number.
KEYS = ["3", "2", "printer on fire#", "1", "1", "1"]


@pytest.fixture
def desk_settings(standin):
    return autotask_settings(standin)


def phone_in(desk):
    call = desk.emulator.place_inbound_call(from_=CUSTOMER, keys=KEYS)
    desk.emulator.wait_idle()
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return " ".join(call.heard)


def call_back(desk):
    """A worker dispatches; Jan answers, presses 1 and talks to the customer."""
    desk.run_jobs()
    desk.emulator.wait_idle(timeout=15)
    reconcile()
    desk.run_jobs()  # the sync jobs the notes asked for


def test_a_whole_call_ends_with_ticket_notes_and_callback_in_autotask_and_the_desk(desk, standin):
    company = standin.add_company("Brouwerij De Klok", phone="03 230 45 67")
    contact = standin.add_contact(company, "An", "Peeters", email="an@deklok.example", mobile="0470/12.34.56")
    phones.refresh()
    add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, Phone(answer="answer", talk_seconds=42))

    heard = phone_in(desk)
    ticket = db.session.scalars(select(Ticket)).one()
    remote = standin.ticket_by_number(ticket.number)
    assert remote is not None, "the caller's ticket was created in Autotask during the call"
    assert f"We have opened ticket {catalog.spoken_ticket_number('en', remote['ticketNumber'])} for you." in heard
    assert (remote["companyID"], remote["contactID"]) == (company, contact)

    call_back(desk)

    callback = db.session.scalars(select(Callback)).one()
    db.session.refresh(callback)
    assert callback.status == "completed"
    assert db.session.scalars(select(CallbackAttempt)).one().outcome == "connected"
    local = [note.body for note in db.session.get(Ticket, ticket.id).notes]
    remote_notes = [note["description"] for note in standin.notes_of(remote["id"])]
    assert "Called back by Jan Janssens: connected (42 s)." in local
    assert remote_notes == local
    assert db.session.get(AutotaskTicket, ticket.id).sync_state == SyncState.SYNCED


def test_a_caller_still_gets_a_callback_while_autotask_is_down(desk, standin):
    add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, Phone(answer="answer", talk_seconds=30))
    standin.fail_next(503, count=1000, errors=["Service unavailable."])

    heard = phone_in(desk)
    ticket = db.session.scalars(select(Ticket)).one()
    provisional = ticket.number
    assert provisional.endswith(".9001") and standin.tickets == {}
    assert f"We have opened ticket {catalog.spoken_ticket_number('en', provisional)} for you." in heard
    assert "You are number 1 in the callback queue." in heard

    call_back(desk)
    callback = db.session.scalars(select(Callback)).one()
    db.session.refresh(callback)
    assert callback.status == "completed"

    # Autotask is back: the sweep pushes the ticket and every note, once.
    standin.heal()
    link = db.session.get(AutotaskTicket, ticket.id)
    link.lease_until = None
    db.session.commit()
    assert sync.sync_pending() == 1
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    remote = standin.ticket_by_number(ticket.number)
    assert remote is not None and ticket.number != provisional
    remote_notes = [note["description"] for note in standin.notes_of(remote["id"])]
    assert remote_notes == [note.body for note in ticket.notes]
    assert any(provisional in note for note in remote_notes)
    assert any("connected (30 s)" in note for note in remote_notes)
    # The number the caller heard still finds the ticket on the phone.
    assert ticket_store().find(provisional).id == ticket.id
