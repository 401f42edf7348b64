"""Only a ticket's own people act on it by phone (DESIGN §11); the others get a linked ticket of their own."""

from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackStatus, Contact, ContactPhone, Ticket
from app.tickets.sql import SqlTicketStore
from callbacks.queue import queue_callback
from emulator import APP_ERROR_MESSAGE
from ivr.calls import whisper_customer
from ivr.catalog import spoken_ticket_number
from tests.helpers import add_contact

STRANGER = "+32470123456"


def call_desk(desk, keys, caller=STRANGER) -> str:
    call = desk.emulator.place_inbound_call(from_=caller, keys=keys)
    desk.emulator.wait_idle()
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return " ".join(call.heard)


def keyed(ticket: Ticket) -> str:
    return ticket.number[1:].replace(".", "") + "#"


def someone_elses_ticket() -> Ticket:
    """A ticket of Atelier Vos, and a caller who is a contact of another company."""
    vos = add_contact("Els Vos", "+3238887766", company="Atelier Vos")
    add_contact("An Peeters", STRANGER, company="Brouwerij De Klok")
    return SqlTicketStore().create(
        title="Payroll server", priority=4, company_id=vos.company_id, contact_id=vos.id, caller_phone="+3238887766"
    )


def test_a_caller_of_another_company_cannot_queue_a_callback_on_the_ticket(desk):
    ticket = someone_elses_ticket()
    heard = call_desk(desk, ["1", keyed(ticket), "1", "1"])
    assert "Payroll server" not in heard
    assert f"Ticket {spoken_ticket_number('en', ticket.number)} has status: new." in heard
    callback = db.session.scalars(select(Callback)).one()
    linked = db.session.get(Ticket, callback.ticket_id)
    assert linked.id != ticket.id and linked.related_ticket_id == ticket.id
    assert linked.title == f"Phone call about ticket {ticket.number}"
    assert "not verified" in linked.notes[0].body and callback.phone == STRANGER
    assert not db.session.scalars(select(Callback).where(Callback.ticket_id == ticket.id)).first()


def test_a_caller_of_another_company_cannot_escalate_the_ticket(desk):
    ticket = someone_elses_ticket()
    call_desk(desk, ["1", keyed(ticket), "2", "2", "1"])
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).priority == 4  # the other company's ticket is untouched
    callback = db.session.scalars(select(Callback)).one()
    assert callback.priority == 2 and callback.ticket.related_ticket_id == ticket.id


def test_a_colleague_of_the_tickets_company_may_act_on_it(desk):
    ticket = someone_elses_ticket()
    colleague = Contact(name="Jo Vos", company_id=ticket.company_id, language="en")
    colleague.phones.append(ContactPhone(e164="+32475000111"))
    db.session.add(colleague)
    db.session.commit()
    heard = call_desk(desk, ["1", keyed(ticket), "1", "1"], caller="+32475000111")
    assert "Payroll server" in heard
    assert db.session.scalars(select(Callback)).one().ticket_id == ticket.id


def test_the_tickets_own_caller_may_act_on_it_without_being_a_contact(desk):
    ticket = SqlTicketStore().create(title="Laptop broken", priority=4, caller_phone="+32475000222")
    heard = call_desk(desk, ["3", "1", keyed(ticket), "1", "1"], caller="+32475000222")
    assert "Laptop broken" in heard
    assert db.session.scalars(select(Callback)).one().ticket_id == ticket.id


def test_a_withheld_caller_is_never_verified(desk):
    ticket = SqlTicketStore().create(title="Laptop broken", priority=4, caller_phone=None)
    heard = call_desk(desk, ["3", "1", keyed(ticket), "1", "0470998877#", "1"], caller="anonymous")
    assert "Laptop broken" not in heard
    callback = db.session.scalars(select(Callback)).one()
    assert callback.ticket.related_ticket_id == ticket.id


def test_the_whisper_says_the_caller_is_not_verified(app):
    ticket = someone_elses_ticket()
    linked = SqlTicketStore().create(title="About it", priority=3, related_ticket_id=ticket.id)
    assert whisper_customer(linked, STRANGER, "en") == "an unknown caller, 0 4 7 0, 1 2, 3 4, 5 6, caller not verified"
    assert whisper_customer(ticket, "+3238887766", "en") == "Els Vos, Atelier Vos"
    assert "beller niet geverifieerd" in whisper_customer(linked, STRANGER, "nl")


def test_a_replayed_cancel_cannot_cancel_a_later_callback(app, provider):
    ticket = SqlTicketStore().create(title="Printer", priority=4, caller_phone=STRANGER)
    first, _ = queue_callback(ticket, STRANGER, 4, "en")
    provider.post("/voice/incoming", call_sid="CA" + "1" * 32, caller=STRANGER)
    heard = provider.post("/voice/language?try=0", call_sid="CA" + "1" * 32, caller=STRANGER, Digits="3")
    heard = heard.get_data(as_text=True)
    assert f"open-callback?callback={first.id}" in heard
    cancel = {"call_sid": "CA" + "1" * 32, "caller": STRANGER, "Digits": "2"}
    assert "cancelled" in provider.post(f"/voice/open-callback?callback={first.id}&try=0", **cancel).get_data(True)
    assert db.session.get(Callback, first.id).status == CallbackStatus.CANCELLED
    second, created = queue_callback(ticket, STRANGER, 4, "en")
    assert created
    replay = provider.post(f"/voice/open-callback?callback={first.id}&try=0", **cancel)
    assert replay.status_code == 200 and "<Gather" in replay.get_data(as_text=True)  # the main menu
    assert db.session.get(Callback, second.id).status == CallbackStatus.WAITING


def test_a_cancel_naming_another_numbers_callback_cancels_nothing(app, provider):
    ticket = SqlTicketStore().create(title="Printer", priority=4, caller_phone="+32475000333")
    theirs, _ = queue_callback(ticket, "+32475000333", 4, "en")
    provider.post(
        f"/voice/open-callback?callback={theirs.id}&try=0", call_sid="CA" + "2" * 32, caller=STRANGER, Digits="2"
    )
    assert db.session.get(Callback, theirs.id).status == CallbackStatus.WAITING
