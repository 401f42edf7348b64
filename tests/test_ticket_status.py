"""A ticket's status moves with the work (DESIGN §6), in the SQL store and in Autotask, and callers hear it."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Ticket, TicketStatus
from app.tickets import progress, ticket_store
from callbacks.queue import queue_callback
from callbacks.reconciler import reconcile
from emulator import APP_ERROR_MESSAGE, Phone
from ivr import catalog
from tests.helpers import add_contact, add_technician, add_user, autotask_settings, log_in

CUSTOMER = "+32470123456"
JAN = "+32470000001"


def phone_in(desk, keys):
    call = desk.emulator.place_inbound_call(from_=CUSTOMER, keys=keys)
    desk.emulator.wait_idle()
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return " ".join(call.heard)


def status_of(ticket_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id).status


def a_whole_callback(desk, customer: Phone) -> Ticket:
    """An (English-speaking) contact reports a problem; Jan is rung, presses 1 and calls the customer."""
    add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok")
    add_technician("Jan Janssens", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, customer)
    phone_in(desk, ["2", "printer on fire#", "1", "1", "1"])
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.status == TicketStatus.NEW
    desk.run_jobs()
    desk.emulator.wait_idle(timeout=15)
    reconcile()
    desk.run_jobs()
    return ticket


def test_a_connected_callback_puts_the_ticket_in_progress_and_the_caller_hears_it(desk):
    ticket = a_whole_callback(desk, Phone(answer="answer", talk_seconds=30))
    assert status_of(ticket.id) == TicketStatus.IN_PROGRESS
    heard = phone_in(desk, ["1", "".join(ch for ch in ticket.number if ch.isdigit()) + "#", "3"])
    assert f"Status: {catalog.status_name('en', 'in_progress')}." in heard
    assert catalog.status_name("en", "in_progress") == "in progress"

    ticket_store().close(db.session.get(Ticket, ticket.id))
    assert status_of(ticket.id) == TicketStatus.CLOSED


def test_a_customer_never_reached_leaves_the_ticket_waiting_for_them(desk):
    desk.app.config["MAX_ATTEMPTS"] = 1
    ticket = a_whole_callback(desk, Phone(answer="no-answer"))
    assert status_of(ticket.id) == TicketStatus.WAITING_CUSTOMER


def test_the_engine_never_moves_a_closed_ticket(app):
    ticket = ticket_store().create(title="Printer", caller_phone=CUSTOMER)
    assert progress.customer_unreachable(ticket)
    assert progress.work_started(ticket)
    ticket_store().close(ticket)
    assert not progress.work_started(ticket)
    assert not progress.customer_unreachable(ticket)
    assert ticket.status == TicketStatus.CLOSED


class TestInAutotask:
    @pytest.fixture
    def desk_settings(self, standin):
        return autotask_settings(standin)

    def test_the_status_reaches_autotask_by_its_label(self, desk, standin):
        ticket = a_whole_callback(desk, Phone(answer="answer", talk_seconds=30))
        assert status_of(ticket.id) == TicketStatus.IN_PROGRESS
        remote = standin.ticket_by_number(db.session.get(Ticket, ticket.id).number)
        assert standin.label_of("Tickets", "status", remote["status"]) == "In Progress"

        ticket_store().close(db.session.get(Ticket, ticket.id))
        desk.run_jobs()
        remote = standin.ticket_by_number(db.session.get(Ticket, ticket.id).number)
        assert standin.label_of("Tickets", "status", remote["status"]) == "Complete"


def test_the_board_and_the_console_show_the_ticket_status(client):
    an = add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok")
    ticket = ticket_store().create(title="Mail server down", contact_id=an.id, company_id=an.company_id)
    queue_callback(ticket, CUSTOMER, 2, "nl")
    progress.customer_unreachable(ticket)
    add_user("boss")
    log_in(client, "boss")
    row = client.get("/board/live").get_data(as_text=True)
    assert '<small class="ticket-status">waiting for customer</small>' in row
