"""A callback call whose outcome webhooks were lost is settled from the provider's records."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician, UrgentTransfer
from app.tickets.sql import SqlTicketStore
from callbacks.dispatch import dispatch
from callbacks.queue import queue_callback
from callbacks.reconciler import reconcile
from emulator import Phone
from emulator.webhooks import Webhooks
from tests.helpers import add_contact, add_technician

CUSTOMER = "+32470123456"
TECHNICIAN = "+32471000001"


class LostOutcomes(Webhooks):
    """The Dial action, the customer leg's status and machine detection never reach the desk (nor, for an
    urgent call, the winner's Dial action and leg status)."""

    def send(self, url, params, method="POST"):
        if any(lost in url for lost in ("/dialed", "leg=customer", "/answered-by", "/bridged/", "/leg-status/")):
            url = "http://127.0.0.1:1/lost"
        return super().send(url, params, method)


@pytest.fixture
def desk_settings():
    return {"CALL_CHECK_SECONDS": 0}


@pytest.fixture
def lossy(desk):
    webhooks = desk.emulator.webhooks
    desk.emulator.webhooks = LostOutcomes(desk.app.config["TWILIO_AUTH_TOKEN"], webhooks.sink, webhooks.timeout)
    return desk


def call_back(desk, customer: Phone) -> CallbackAttempt:
    """Queue a callback, let Jan accept it and the customer leg run; its outcome webhooks are lost."""
    ticket = SqlTicketStore().create(title="Printer jammed", priority=3)
    queue_callback(ticket, CUSTOMER, 3, "en")
    add_technician("Jan", TECHNICIAN, languages="en")
    desk.emulator.set_phone(TECHNICIAN, Phone(keys=["1"]))
    desk.emulator.set_phone(CUSTOMER, customer)
    assert dispatch() == 1  # Jan is rung, accepts, the customer is dialled
    assert desk.emulator.wait_idle(timeout=20)
    attempt = db.session.scalars(select(CallbackAttempt)).one()
    db.session.refresh(attempt)
    assert attempt.status == "dialing_customer"  # nothing told the desk how it went
    return attempt


def test_a_connected_call_whose_webhooks_were_lost_completes_at_the_next_sweep(lossy):
    attempt = call_back(lossy, Phone(talk_seconds=42))
    assert reconcile()["calls_settled"] == 1
    db.session.expire_all()
    attempt = db.session.get(CallbackAttempt, attempt.id)
    assert (attempt.status, attempt.outcome, attempt.talk_seconds) == ("ended", "connected", 42)
    assert attempt.customer_call_sid.startswith("CA")
    assert db.session.get(Callback, attempt.callback_id).status == "completed"
    assert db.session.get(Technician, attempt.technician_id).state == "wrap_up"
    assert reconcile()["calls_settled"] == 0  # settled once


def test_a_customer_who_did_not_answer_goes_back_to_waiting(lossy):
    attempt = call_back(lossy, Phone(answer="no-answer"))
    assert reconcile()["calls_settled"] == 1
    db.session.expire_all()
    callback = db.session.get(Callback, attempt.callback_id)
    assert (callback.status, callback.attempts) == ("waiting", 1)
    assert db.session.get(CallbackAttempt, attempt.id).outcome == "no_answer"
    assert db.session.get(Technician, attempt.technician_id).state == "available"


def test_a_call_still_going_on_is_left_alone(app):
    """Looked up while the technician's call is in progress: nothing changes."""
    from callbacks import settle

    ticket = SqlTicketStore().create(title="VPN", priority=3)
    callback = queue_callback(ticket, CUSTOMER, 3, "en")[0]
    technician = add_technician("Jan", TECHNICIAN)
    attempt = CallbackAttempt(
        callback_id=callback.id,
        technician_id=technician.id,
        status="dialing_customer",
        technician_call_sid="CA" + "1" * 32,
    )
    db.session.add(attempt)
    db.session.commit()
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"  # the provider cannot be asked
    app.extensions.pop("twilio", None)
    app.config["CALL_CHECK_SECONDS"] = 0
    assert settle.settle_quiet_calls() == 0  # asked, could not tell: left for the next sweep
    db.session.expire_all()
    assert db.session.get(CallbackAttempt, attempt.id).status == "dialing_customer"


def test_an_urgent_call_whose_end_was_lost_frees_its_technician_at_the_next_sweep(lossy):
    add_contact("An Peeters", CUSTOMER, company="Brouwerij De Klok", contract="magic")
    jan = add_technician("Jan", TECHNICIAN, languages="en")
    lossy.emulator.set_phone(TECHNICIAN, Phone(keys=["1"], talk_seconds=95))
    call = lossy.emulator.place_inbound_call(from_=CUSTOMER, keys=["2", "server down#", "2", "3"])
    assert lossy.emulator.wait_idle(timeout=20)
    assert ("bridged", TECHNICIAN) in call.events
    transfer = db.session.scalars(select(UrgentTransfer)).one()
    assert transfer.status == "connected"  # the Dial action never reached the desk
    assert db.session.get(Technician, jan.id).state == "on_call"

    assert reconcile()["calls_settled"] == 1

    db.session.expire_all()
    transfer = db.session.get(UrgentTransfer, transfer.id)
    assert transfer.status == "ended" and transfer.ended_at is not None
    assert db.session.get(Technician, jan.id).state == "wrap_up"
    note = transfer.ticket.notes[-1].body
    assert note.startswith("Urgent call put through live to Jan (") and int(note.split("(")[1].split()[0]) >= 95
