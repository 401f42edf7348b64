"""Urgent calls (people cannot work) put through live, driven through the emulator."""

import json
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician, Ticket, UrgentTransfer
from app.opening_hours import parse_hours
from app.tickets.sql import SqlTicketStore
from callbacks import urgent
from callbacks.dispatch import dispatch
from callbacks.queue import position, queue_callback
from emulator import APP_ERROR_MESSAGE, Phone
from tests.helpers import add_contact, add_technician

CALLER = "+32470123456"
JAN, MARIE, ONCALL = "+32470000001", "+32470000002", "+32470999999"
P1_KEYS = ["2", "printer fire#", "2", "3"]  # new problem, cannot work, whole company


@pytest.fixture
def contact(desk):
    return add_contact("An Peeters", CALLER, company="Brouwerij De Klok", contract="magic")


def call_in(desk, keys):
    call = desk.emulator.place_inbound_call(from_=CALLER, keys=keys)
    desk.emulator.wait_idle(timeout=15)
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return call


def transfer() -> UrgentTransfer:
    db.session.expire_all()
    return db.session.scalars(select(UrgentTransfer)).one()


def state(technician) -> str:
    db.session.expire_all()
    return db.session.get(Technician, technician.id).state


def leg_to(desk, number):
    return [c for c in desk.emulator.calls.values() if c.to == number]


def rung(desk) -> list[str]:
    """The numbers the desk called, in the order it placed the calls."""
    legs = [c for c in desk.emulator.calls.values() if c.direction == "outbound-api"]
    return [c.to for c in sorted(legs, key=lambda c: c.date_created)]


def test_one_technician_accepts_and_is_put_through(desk, contact):
    jan = add_technician("Jan", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"], talk_seconds=300))
    call = call_in(desk, P1_KEYS)
    heard = " ".join(call.heard)
    ticket = db.session.scalars(select(Ticket)).one()
    assert heard.index("We have opened ticket") < heard.index("We are connecting you to a technician now.")
    assert ticket.priority == 1
    done = transfer()
    assert (done.status, done.technician_id, done.taken_by_oncall) == ("ended", jan.id, False)
    assert state(jan) == "wrap_up"
    note = ticket.notes[-1].body
    assert note.startswith("Urgent call put through live to Jan (")
    assert int(note.split("(")[1].split(" ")[0]) >= 300  # the whisper, then 300 s of talk
    [leg] = leg_to(desk, JAN)
    assert any("Urgent call: people cannot work. An Peeters, Brouwerij De Klok." in line for line in leg.heard)
    assert ("bridged", JAN) in call.events
    assert db.session.scalars(select(Callback)).first() is None


def test_everyone_free_is_rung_at_once_and_only_one_is_put_through(desk, contact):
    jan = add_technician("Jan", JAN, languages="en")
    marie = add_technician("Marie", MARIE, languages="en")
    for number in (JAN, MARIE):
        desk.emulator.set_phone(number, Phone(answer="answer", keys=["1"]))
    call = call_in(desk, P1_KEYS)
    assert set(rung(desk)) == {JAN, MARIE}
    assert len([detail for event, detail in call.events if event == "bridged"]) == 1
    done = transfer()
    winner, other = (jan, marie) if done.technician_id == jan.id else (marie, jan)
    assert state(winner) == "wrap_up" and state(other) == "available"


def test_two_accepts_in_the_same_instant_bridge_exactly_one(provider, app):
    ticket = SqlTicketStore().create(title="Down", priority=1)
    technicians = [add_technician(f"Tech {i}", f"+3247000000{i}") for i in range(1, 5)]
    ongoing = urgent.start("CA" + "e" * 32, ticket, CALLER, oncall_only=False)
    assert len(urgent.ring_technicians(ongoing)) == 4
    rings = {ring.id: ring.technician_id for ring in ongoing.rings}
    bridged: list[int] = []
    barrier = threading.Barrier(4)

    def press_1(ring_id: int) -> None:
        client = type(provider)(app)
        with app.app_context():
            barrier.wait()
            response = client.post(f"/voice/urgent/{ongoing.id}/accept/{ring_id}", Digits="1")
            if ET.fromstring(response.data).find("Say") is None:
                bridged.append(rings[ring_id])
            db.session.remove()

    threads = [threading.Thread(target=press_1, args=(ring_id,)) for ring_id in rings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bridged) == 1
    db.session.expire_all()
    assert db.session.get(UrgentTransfer, ongoing.id).technician_id == bridged[0]
    states = sorted(db.session.get(Technician, t.id).state for t in technicians)
    assert states == ["available", "available", "available", "on_call"]


def test_nobody_accepts_and_the_on_call_number_answers(desk, contact):
    desk.app.config["ONCALL_NUMBER"] = ONCALL
    jan = add_technician("Jan", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=[""]))  # picks up, says nothing
    desk.emulator.set_phone(ONCALL, Phone(answer="answer", keys=["1"], talk_seconds=120))
    call_in(desk, P1_KEYS)
    done = transfer()
    assert (done.status, done.taken_by_oncall, done.technician_id) == ("ended", True, None)
    assert state(jan) == "available"
    assert "put through live to the on-call number" in done.ticket.notes[-1].body


def test_when_the_on_call_misses_too_the_caller_is_first_in_the_queue_and_leaves_a_message(desk, contact):
    desk.app.config["ONCALL_NUMBER"] = ONCALL
    add_technician("Jan", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="no-answer"))
    desk.emulator.set_phone(ONCALL, Phone(answer="busy"))
    earlier = queue_callback(SqlTicketStore().create(title="older P1", priority=1), "+32475000001", 2, "en")[0]
    call = call_in(desk, [*P1_KEYS, "the whole office is down#"])
    heard = " ".join(call.heard)
    assert "No technician is free right now; you are first in the callback queue." in heard
    done = transfer()
    assert done.status == "queued"
    callback = db.session.scalars(select(Callback).where(Callback.phone == CALLER)).one()
    assert callback.priority == 1 and position(callback) == 1
    assert position(db.session.get(Callback, earlier.id)) == 2
    assert "Message left after an urgent call" in done.ticket.notes[-1].body


def test_nobody_free_and_no_on_call_number_goes_straight_to_the_queue(desk, contact):
    call_in(desk, P1_KEYS)
    assert rung(desk) == []
    assert transfer().status == "queued"
    assert db.session.scalars(select(Callback)).one().priority == 1


def test_technicians_rung_for_an_urgent_call_get_no_callback_offers(desk, contact):
    jan = add_technician("Jan", JAN, languages="en")
    desk.emulator.set_phone(JAN, Phone(answer="answer", keys=["1"], ring_seconds=1.5))
    queue_callback(SqlTicketStore().create(title="waiting", priority=4), "+32475000001", 4, "en")
    worker = threading.Thread(target=lambda: desk.emulator.place_inbound_call(from_=CALLER, keys=P1_KEYS))
    worker.start()
    for _ in range(100):
        db.session.expire_all()
        if state(jan) == "offered":
            break
        threading.Event().wait(0.02)
    assert state(jan) == "offered"
    assert dispatch() == 0  # Jan is being rung for the urgent call
    assert db.session.scalars(select(CallbackAttempt)).first() is None
    worker.join()
    desk.emulator.wait_idle(timeout=15)
    assert transfer().technician_id == jan.id


def test_one_at_a_time_rings_the_longest_idle_first(desk, contact):
    desk.app.config["URGENT_RING_MODE"] = "longest_idle"
    jan = add_technician("Jan", JAN, languages="en")
    marie = add_technician("Marie", MARIE, languages="en")
    jan.state_since = marie.state_since.replace(year=2020)
    db.session.commit()
    desk.emulator.set_phone(JAN, Phone(answer="no-answer"))
    desk.emulator.set_phone(MARIE, Phone(answer="answer", keys=["1"]))
    call_in(desk, P1_KEYS)
    assert rung(desk) == [JAN, MARIE]
    assert transfer().technician_id == marie.id
    assert state(jan) == "available"


def closed(app):
    app.config["OPENING_HOURS"] = parse_hours("mon-sun 00:00-00:01")


def test_out_of_hours_a_magic_contract_reaches_the_on_call_number(desk, contact):
    closed(desk.app)
    desk.app.config["ONCALL_NUMBER"] = ONCALL
    add_technician("Jan", JAN, languages="en")  # technicians are not rung out of hours
    desk.emulator.set_phone(ONCALL, Phone(answer="answer", keys=["1"]))
    call_in(desk, ["1", "2"])  # urgent line, several colleagues affected
    assert rung(desk) == [ONCALL]
    done = transfer()
    assert done.taken_by_oncall and done.oncall_only and done.status == "ended"


def test_out_of_hours_other_contracts_get_a_p1_callback_at_the_next_opening(desk):
    closed(desk.app)
    desk.app.config["ONCALL_NUMBER"] = ONCALL
    add_contact("Els Vos", CALLER, company="Atelier Vos", contract="basic")
    call_in(desk, ["#", "2", "3", "1"])  # a known contact: no language menu
    assert rung(desk) == []
    callback = db.session.scalars(select(Callback)).one()
    assert callback.priority == 1 and callback.due_at > callback.queued_at
    assert db.session.scalars(select(UrgentTransfer)).first() is None


def test_the_queue_json_shows_urgent_calls_in_progress(app, runner):
    ticket = SqlTicketStore().create(title="Down", priority=1)
    add_technician("Jan", JAN)
    ongoing = urgent.start("CA" + "f" * 32, ticket, CALLER, oncall_only=False)
    urgent.ring_technicians(ongoing)
    snapshot = json.loads(runner.invoke(args=["queue", "--json"]).output)
    [shown] = snapshot["urgent_calls"]
    assert (shown["status"], shown["phone"], shown["ticket_number"]) == ("ringing", CALLER, ticket.number)
    assert snapshot["technicians"][0]["state"] == "offered"
    assert f"urgent ringing    {CALLER}" in runner.invoke(args=["queue"]).output


def test_a_transfer_whose_dial_action_never_came_is_moved_on(app):
    ticket = SqlTicketStore().create(title="Down", priority=1)
    jan = add_technician("Jan", JAN)
    ongoing = urgent.start("CA" + "d" * 32, ticket, CALLER, oncall_only=False)
    urgent.ring_technicians(ongoing)
    assert urgent.expire_stale() == 0  # still within its ring time
    ongoing.started_at -= timedelta(minutes=10)
    db.session.commit()
    assert urgent.expire_stale() == 1
    assert transfer().status == "queued"
    assert state(jan) == "available"
    callback = db.session.scalars(select(Callback)).one()
    assert (callback.phone, callback.priority) == (CALLER, 1)
