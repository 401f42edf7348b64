"""After the customer leg of a callback: voicemail is never "reached", a wrong number is flagged.

Driven through the emulator: the customer's phone may be an answering machine (the
provider's machine detection says so), or the technician says so in the after-call menu.
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.tickets.sql import SqlTicketStore
from app.web.accounts import new_token
from callbacks.dispatch import dispatch
from callbacks.queue import queue_callback
from callbacks.snapshot import queue_snapshot
from emulator import APP_ERROR_MESSAGE, Phone
from tests.helpers import add_technician, add_user, log_in

CUSTOMER = "+32470123456"
TECHNICIAN = "+32471000001"


@pytest.fixture
def desk_settings():
    return {"MAX_ATTEMPTS": 2, "RETRY_INTERVAL_SECONDS": 0, "WRAP_UP_SECONDS": 0}


def callback_for(desk, customer: Phone, technician_keys: list[str]) -> Callback:
    ticket = SqlTicketStore().create(title="Printer jammed", priority=3)
    callback, _ = queue_callback(ticket, CUSTOMER, 3, "en")
    add_technician("Jan", TECHNICIAN, languages="en")
    desk.emulator.set_phone(TECHNICIAN, Phone(keys=technician_keys))
    desk.emulator.set_phone(CUSTOMER, customer)
    return callback


def attempt_once(desk) -> CallbackAttempt:
    assert dispatch() == 1
    assert desk.emulator.wait_idle(timeout=20)
    for call in desk.emulator.calls.values():
        assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    db.session.expire_all()
    return db.session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id.desc())).first()


def reload(callback: Callback) -> Callback:
    db.session.expire_all()
    return db.session.get(Callback, callback.id)


def test_a_machine_detected_on_the_customers_leg_is_voicemail_and_retried_at_its_place(desk):
    callback = callback_for(desk, Phone.voicemail(), ["1"])  # the technician says nothing after the call
    queued_at = callback.queued_at
    first = attempt_once(desk)
    assert (first.outcome, first.answered_by) == ("voicemail", "machine_start")
    waiting = reload(callback)
    assert (waiting.status, waiting.attempts, waiting.queued_at) == ("waiting", 1, queued_at)
    assert db.session.get(Technician, first.technician_id).state == "available"
    second = attempt_once(desk)  # retried: the retry interval is 0 here
    assert second.outcome == "voicemail"
    given_up = reload(callback)
    assert (given_up.status, given_up.attempts, given_up.wrong_number) == ("unreachable", 2, False)
    notes = [note.body for note in given_up.ticket.notes]
    assert "Callback attempt by Jan: customer not reached (voicemail)." in notes
    assert notes[-1] == "Callback given up after 2 attempts: customer not reached (voicemail)."


def test_the_technicians_2_says_voicemail_when_no_machine_was_detected(desk):
    callback = callback_for(desk, Phone(keys=[], hangup_when_done=False), ["1", "2"])
    attempt = attempt_once(desk)
    assert (attempt.outcome, attempt.answered_by) == ("voicemail", "human")
    assert reload(callback).status == "waiting"
    [technician_leg] = [c for c in desk.emulator.calls.values() if c.to == TECHNICIAN]
    assert "If you spoke with the customer, press 1." in " ".join(technician_leg.heard)


def test_a_wrong_number_ends_unreachable_with_a_note_and_a_flag(desk):
    callback = callback_for(desk, Phone(keys=[], hangup_when_done=False), ["1", "3"])
    attempt = attempt_once(desk)
    assert attempt.outcome == "wrong_number"
    ended = reload(callback)
    assert (ended.status, ended.wrong_number) == ("unreachable", True)
    assert "wrong number" in ended.ticket.notes[-1].body


def test_a_person_who_answers_is_connected_without_a_key(desk):
    callback = callback_for(desk, Phone(keys=[], hangup_when_done=False, talk_seconds=70), ["1"])
    attempt = attempt_once(desk)
    assert (attempt.outcome, attempt.talk_seconds) == ("connected", 70)
    assert reload(callback).status == "completed"


def test_the_technicians_own_voicemail_is_a_missed_offer(desk):
    callback = callback_for(desk, Phone(), [])
    desk.emulator.set_phone(TECHNICIAN, Phone.voicemail())
    attempt = attempt_once(desk)
    assert attempt.outcome == "technician_missed"
    assert reload(callback).attempts == 0
    assert [c.to for c in desk.emulator.calls.values()] == [TECHNICIAN]  # the customer was never dialled


def test_the_board_the_api_and_the_queue_show_each_attempts_outcome_and_the_flag(desk):
    callback = callback_for(desk, Phone(keys=[], hangup_when_done=False), ["1", "3"])
    attempt_once(desk)
    [shown] = [entry for entry in queue_snapshot()["callbacks"] if entry["id"] == callback.id]
    assert (shown["outcomes"], shown["wrong_number"]) == (["wrong_number"], True)
    client = desk.app.test_client()
    boss = add_user("boss")
    log_in(client, "boss")
    page = client.get("/board/live").get_data(as_text=True)
    assert "Wrong numbers today" in page and CUSTOMER in page
    token = new_token(boss)
    body = client.get(f"/api/callbacks/{callback.id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["wrong_number"] is True
    assert [a["outcome"] for a in body["attempt_history"]] == ["wrong_number"]
    assert body["attempt_history"][0]["answered_by"] == "human"
