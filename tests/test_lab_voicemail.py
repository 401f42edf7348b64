"""The phone lab's voicemail choice: a lab phone answered by an answering machine in the emulator."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CallbackAttempt
from app.tickets import ticket_store
from callbacks.dispatch import dispatch
from callbacks.queue import queue_callback
from emulator import APP_ERROR_MESSAGE, Phone
from tests.helpers import add_contact, add_technician, add_user, csrf_token_of, log_in

CUSTOMER = "+32470123456"
JAN = "+32470000001"


@pytest.fixture
def desk_settings():
    return {"MAX_ATTEMPTS": 3, "RETRY_INTERVAL_SECONDS": 600}


@pytest.fixture
def lab_client(desk):
    add_user("boss")
    add_technician("Jan Janssens", JAN, languages="en")
    add_contact("An Peeters", CUSTOMER)
    client = desk.app.test_client()
    log_in(client, "boss")
    client.token = csrf_token_of(client.get("/board").get_data(as_text=True))
    return client


def json_post(client, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": client.token})


def test_the_lab_page_offers_voicemail_for_every_phone(lab_client):
    page = lab_client.get("/lab").get_data(as_text=True)
    assert page.count('<option value="voicemail">') == 2  # the customer's phone and Jan's
    assert "voicemail (picks up after 1 s, never presses a key)" in page


def test_choosing_voicemail_makes_the_phone_an_answering_machine_and_taking_phones_keeps_it(lab_client, desk):
    json_post(lab_client, "/lab/handsets", {"customer": CUSTOMER})
    assert desk.emulator.phones[JAN].interactive
    chosen = json_post(lab_client, f"/lab/phones/{JAN}", {"mode": "voicemail"})
    assert chosen.status_code == 200 and chosen.json["machine"] is True
    machine = desk.emulator.phones[JAN]
    assert (machine.machine, machine.interactive, machine.keys, machine.ring_seconds) == (True, False, [], 1)
    assert machine.hangup_when_done is False
    assert JAN not in lab_client.get("/lab/handsets").json

    taken = json_post(lab_client, "/lab/handsets", {"customer": CUSTOMER}).json
    assert (taken["handsets"], taken["voicemail"]) == ([CUSTOMER], [JAN])
    assert desk.emulator.phones[JAN].machine

    assert json_post(lab_client, "/lab/phones/0470 00 00 01", {"mode": "person"}).status_code == 200
    assert desk.emulator.phones[JAN].interactive and not desk.emulator.phones[JAN].machine
    assert json_post(lab_client, "/lab/handsets", {"customer": CUSTOMER}).json["voicemail"] == []


def test_a_customer_phone_set_to_voicemail_in_the_lab_is_detected_as_a_machine(lab_client, desk):
    assert json_post(lab_client, f"/lab/phones/{CUSTOMER}", {"mode": "voicemail"}).status_code == 200
    desk.emulator.set_phone(JAN, Phone(keys=["1"]))  # Jan takes the callback, then says nothing
    ticket = ticket_store().create(title="Printer jammed", priority=3)
    queue_callback(ticket, CUSTOMER, 3, "en")
    assert dispatch() == 1
    assert desk.emulator.wait_idle(timeout=20)
    for call in desk.emulator.calls.values():
        assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    db.session.expire_all()
    attempt = db.session.scalars(select(CallbackAttempt)).one()
    assert (attempt.outcome, attempt.answered_by) == ("voicemail", "machine_start")
    assert (attempt.callback.status, attempt.callback.attempts) == ("waiting", 1)


def test_a_bad_choice_a_bad_number_or_no_csrf_token_changes_nothing(lab_client, desk):
    json_post(lab_client, "/lab/handsets", {"customer": CUSTOMER})
    answer = json_post(lab_client, f"/lab/phones/{JAN}", {"mode": "fax"})
    assert answer.status_code == 400 and "person or voicemail" in answer.json["error"]
    assert json_post(lab_client, f"/lab/phones/{JAN}", None).status_code == 400
    assert json_post(lab_client, "/lab/phones/not-a-number", {"mode": "voicemail"}).status_code == 404
    assert lab_client.post(f"/lab/phones/{JAN}", json={"mode": "voicemail"}).status_code == 400
    assert desk.emulator.phones[JAN].interactive and not desk.emulator.phones[JAN].machine
