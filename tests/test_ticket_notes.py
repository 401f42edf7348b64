"""Ticket notes for callback outcomes and on-site visits, in the SQL store and in Autotask."""

from datetime import datetime, timedelta

import pytest
from flask import current_app

from app.clock import utcnow
from app.directory import contracts
from app.extensions import db
from app.models import (
    AttemptOutcome,
    AttemptStatus,
    AutotaskTicket,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    Company,
    Contact,
    TechnicianState,
    Ticket,
    UrgentStatus,
    UrgentTransfer,
)
from app.tickets import onsite, ticket_store
from callbacks import attempts, urgent
from tests.helpers import add_technician, autotask_settings, run_jobs

CALLER = "+32470123456"


@pytest.fixture(params=["sql", "autotask"])
def store_kind(request, app):
    """Each test runs once per store; with Autotask the stand-in must end up with the same notes."""
    if request.param == "autotask":
        standin = request.getfixturevalue("standin")
        app.config.update(autotask_settings(standin))
        return standin
    return None


def remote_notes(standin, ticket: Ticket) -> list[str]:
    """The notes Autotask has for the ticket, after the sync jobs ran."""
    run_jobs(current_app._get_current_object())
    db.session.expire_all()
    link = db.session.get(AutotaskTicket, ticket.id)
    return [note["description"] for note in standin.notes_of(link.autotask_id)]


def in_call(ticket: Ticket, attempts_so_far: int = 0) -> CallbackAttempt:
    """A technician is talking to (or dialling) the customer about the ticket."""
    jan = add_technician("Jan Janssens", "+32470000001", state=TechnicianState.ON_CALL)
    callback = Callback(
        ticket_id=ticket.id,
        phone=CALLER,
        language="en",
        priority=3,
        status=CallbackStatus.IN_PROGRESS,
        technician_id=jan.id,
        attempts=attempts_so_far,
    )
    attempt = CallbackAttempt(callback=callback, technician_id=jan.id, status=AttemptStatus.DIALING_CUSTOMER)
    db.session.add(attempt)
    db.session.commit()
    return attempt


def local_notes(ticket: Ticket) -> list[str]:
    db.session.expire_all()
    return [note.body for note in db.session.get(Ticket, ticket.id).notes]


@pytest.mark.parametrize(
    ("provider_status", "attempts_so_far", "expected"),
    [
        ("completed", 0, "Called back by Jan Janssens: connected (42 s)."),
        ("no-answer", 0, "Callback attempt by Jan Janssens: customer not reached (no_answer)."),
        ("busy", 2, "Callback given up after 3 attempts: customer not reached (busy)."),
    ],
)
def test_every_callback_outcome_is_noted(app, store_kind, provider_status, attempts_so_far, expected):
    ticket = ticket_store().create(title="Printer", priority=3, caller_phone=CALLER)
    assert attempts.customer_call_ended(in_call(ticket, attempts_so_far), provider_status, 42, final=True)
    assert expected in local_notes(ticket)
    if store_kind is not None:
        assert expected in remote_notes(store_kind, ticket)


def being_offered(ticket: Ticket) -> CallbackAttempt:
    """Jan's phone rings with an offer of the ticket's callback."""
    jan = add_technician("Jan Janssens", "+32470000001", state=TechnicianState.OFFERED)
    callback = Callback(
        ticket_id=ticket.id,
        phone=CALLER,
        language="en",
        priority=3,
        status=CallbackStatus.OFFERED,
        technician_id=jan.id,
    )
    attempt = CallbackAttempt(callback=callback, technician_id=jan.id, status=AttemptStatus.RINGING_TECHNICIAN)
    db.session.add(attempt)
    db.session.commit()
    return attempt


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (AttemptOutcome.TECHNICIAN_MISSED, "Callback offered to Jan Janssens: missed."),
        (AttemptOutcome.TECHNICIAN_SKIPPED, "Callback offered to Jan Janssens: skipped."),
    ],
)
def test_an_offer_the_technician_missed_or_skipped_is_noted(app, store_kind, outcome, expected):
    ticket = ticket_store().create(title="Printer", priority=3, caller_phone=CALLER)
    attempt = being_offered(ticket)
    assert attempts.technician_declined(attempt, outcome)
    assert not attempts.technician_declined(attempt, outcome)  # a replay notes nothing more
    assert local_notes(ticket) == [expected]
    if store_kind is not None:
        assert remote_notes(store_kind, ticket) == [expected]


def urgent_transfer(ticket: Ticket, status: str, technician=None) -> UrgentTransfer:
    transfer = UrgentTransfer(call_sid="CAurgent", ticket_id=ticket.id, phone=CALLER, status=status)
    transfer.technician = technician
    db.session.add(transfer)
    db.session.commit()
    return transfer


def test_an_urgent_call_put_through_live_is_noted(app, store_kind):
    ticket = ticket_store().create(title="Server down", priority=1, caller_phone=CALLER)
    marie = add_technician("Marie Dubois", "+32470000002", state=TechnicianState.ON_CALL)
    transfer = urgent_transfer(ticket, UrgentStatus.CONNECTED, marie)
    assert urgent.call_over(transfer, 95)
    assert not urgent.call_over(transfer, 95)
    expected = "Urgent call put through live to Marie Dubois (95 s)."
    assert local_notes(ticket) == [expected]
    if store_kind is not None:
        assert remote_notes(store_kind, ticket) == [expected]


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (UrgentStatus.RINGING, "Urgent call not put through live: the technicians did not answer."),
        (UrgentStatus.ONCALL, "Urgent call not put through live: the on-call number did not answer."),
    ],
)
def test_an_urgent_call_nobody_took_is_noted(app, store_kind, stage, expected):
    ticket = ticket_store().create(title="Server down", priority=1, caller_phone=CALLER)
    transfer = urgent_transfer(ticket, stage)
    assert urgent.nobody_took_it(transfer, stage) == UrgentStatus.QUEUED
    urgent.nobody_took_it(transfer, stage)  # a replayed report
    assert local_notes(ticket) == [expected]
    if store_kind is not None:
        assert remote_notes(store_kind, ticket) == [expected]


def test_a_replayed_outcome_adds_no_second_note(app, store_kind):
    ticket = ticket_store().create(title="Printer", priority=3, caller_phone=CALLER)
    attempt = in_call(ticket)
    assert attempts.customer_call_ended(attempt, "completed", 10, final=True)
    assert not attempts.customer_call_ended(attempt, "completed", 10, final=True)
    assert len(local_notes(ticket)) == 1
    if store_kind is not None:
        assert len(remote_notes(store_kind, ticket)) == 1


def ticket_for(contract: str) -> Ticket:
    company = Company(name="Brouwerij De Klok", contract=contract)
    contact = Contact(name="An Peeters", company=company)
    db.session.add(contact)
    db.session.commit()
    return ticket_store().create(title="Network cabinet", priority=3, contact_id=contact.id)


TOMORROW_9 = (utcnow() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("contract", ["wise", "magic"])
def test_an_included_on_site_visit_is_noted(app, store_kind, contract):
    ticket = ticket_for(contract)
    note = onsite.plan_onsite_visit(ticket, TOMORROW_9, "Tom Claes")
    name = contract.capitalize()
    assert note.body.startswith("On-site visit planned on ")
    assert note.body.endswith(f"by Tom Claes: included in the {name} contract, at no cost.")
    assert note.body in local_notes(ticket)
    if store_kind is not None:
        assert note.body in remote_notes(store_kind, ticket)


@pytest.mark.parametrize(("contract", "described"), [("basic", "the Basic contract"), ("none", "no contract")])
def test_a_visit_outside_the_contract_is_refused_until_confirmed_as_billable(app, store_kind, contract, described):
    ticket = ticket_for(contract)
    with pytest.raises(onsite.OnsiteNotIncluded, match="billable"):
        onsite.plan_onsite_visit(ticket, TOMORROW_9, "Tom Claes")
    assert local_notes(ticket) == []
    note = onsite.plan_onsite_visit(ticket, TOMORROW_9, "Tom Claes", billable=True)
    assert note.body.endswith(f"by Tom Claes: billable, not included ({described}).")
    if store_kind is not None:
        assert remote_notes(store_kind, ticket) == [note.body]


def test_the_note_shows_brussels_time(app):
    ticket = ticket_for("wise")
    when = datetime(2099, 7, 1, 7, 30)  # 09:30 in Brussels (summer time)
    note = onsite.plan_onsite_visit(ticket, when, "Tom Claes")
    assert "on Wed 01 Jul 2099 09:30 by Tom Claes" in note.body


def test_a_visit_needs_a_technician_and_a_time_to_come(app):
    ticket = ticket_for("magic")
    with pytest.raises(ValueError, match="which technician"):
        onsite.plan_onsite_visit(ticket, TOMORROW_9, "  ")
    with pytest.raises(ValueError, match="time still to come"):
        onsite.plan_onsite_visit(ticket, utcnow() - timedelta(hours=1), "Tom Claes")
    assert local_notes(ticket) == []


def test_contracts_include_what_the_desk_promises(app):
    assert [contracts.includes_onsite(c) for c in ("none", "basic", "wise", "magic")] == [False, False, True, True]
    assert [contracts.includes_out_of_hours(c) for c in ("none", "basic", "wise", "magic")] == [
        False,
        False,
        False,
        True,
    ]
