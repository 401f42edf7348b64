"""The new-problem path of the IVR, webhook by webhook, as the provider would post it."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Call, Callback, Ticket
from callbacks.queue import position
from tests.helpers import add_contact

SID = "CA" + "a" * 32


def heard(response) -> str:
    """Everything the caller hears in a TwiML answer, as one string."""
    assert response.status_code == 200, response.data
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return " ".join(element.text or "" for element in root.iter("Say"))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def report_problem(provider, urgency="2", impact="3", caller="+32470123456", sid=SID):
    """Walk the new-problem path up to the callback-number question."""
    provider.post("/voice/incoming", sid, caller)
    provider.post("/voice/main-menu?try=0", sid, caller, Digits="2")
    provider.post("/voice/recorded", sid, caller, RecordingUrl="https://rec.example/RE1", Digits="#")
    provider.post("/voice/urgency?try=0", sid, caller, Digits=urgency)
    return provider.post("/voice/impact?try=0", sid, caller, Digits=impact)


def test_the_caller_hears_the_main_menu_in_the_chosen_language(provider):
    provider.post("/voice/incoming")
    text = heard(provider.post("/voice/language?try=0", Digits="3"))
    assert "Welcome to the service desk." in text
    assert "If you have a ticket number, press 1. To report a new problem, press 2." in text


def test_a_known_contact_is_greeted_by_name_and_company(provider):
    add_contact("An Peeters", "+32470123456", company="Brouwerij De Klok")
    assert "Hello An Peeters, of Brouwerij De Klok." in heard(provider.post("/voice/incoming"))


def test_pressing_2_asks_for_a_description_and_records_it(provider):
    provider.post("/voice/incoming", SID)
    response = provider.post("/voice/main-menu?try=0", SID, Digits="2")
    assert "After the beep, describe your problem briefly, then press the hash key." in heard(response)
    record = ET.fromstring(response.data).find("Record")
    assert record.get("finishOnKey") == "#" and record.get("action").endswith("/voice/recorded")


@pytest.mark.parametrize(
    ("urgency", "impact", "priority"),
    [("2", "1", 3), ("2", "2", 2), ("2", "3", 1), ("1", "1", 4), ("1", "2", 4), ("1", "3", 3)],
)
def test_the_priority_follows_the_matrix(provider, urgency, impact, priority):
    text = heard(report_problem(provider, urgency, impact))
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.priority == priority
    spoken = "T, " + " ".join(ticket.number[1:9]) + ", dot, " + " ".join(ticket.number[10:])
    assert f"We have opened ticket {spoken} for you." in text
    if priority == 1:  # put through live (the urgent transfer)
        assert "We are connecting you to a technician now." in text
    else:
        assert "We will call you back on 0 4 7 0, 1 2, 3 4, 5 6. To confirm, press 1." in text


def test_confirming_the_caller_id_queues_the_callback_and_says_the_position(provider):
    report_problem(provider, urgency="1", impact="1")
    text = heard(provider.post("/voice/confirm-number?try=0", SID, Digits="1"))
    assert "You are number 1 in the callback queue." in text
    callback = db.session.scalars(select(Callback)).one()
    assert (callback.phone, callback.priority, callback.status) == ("+32470123456", 4, "waiting")
    assert callback.ticket.recording_url == "https://rec.example/RE1"


def test_the_second_caller_hears_position_2_and_p1_goes_first(provider):
    report_problem(provider, urgency="1", impact="1")
    provider.post("/voice/confirm-number?try=0", SID, Digits="1")
    other = "CA" + "b" * 32
    report_problem(provider, urgency="1", impact="2", caller="+32475111222", sid=other)
    assert "number 2 in the" in heard(provider.post("/voice/confirm-number?try=0", other, "+32475111222", Digits="1"))
    urgent = "CA" + "c" * 32
    # P1 with no technician free and no on-call number: straight to the front of the queue.
    text = heard(report_problem(provider, urgency="2", impact="3", caller="+32475333444", sid=urgent))
    assert "No technician is free right now; you are first in the callback queue." in text
    first = db.session.scalars(select(Callback).where(Callback.phone == "+32475333444")).one()
    assert first.priority == 1 and position(first) == 1


def test_a_replayed_webhook_creates_no_second_ticket_or_callback(provider):
    first = report_problem(provider)
    again = provider.post("/voice/impact?try=0", SID, Digits="3")
    assert again.data == first.data
    provider.post("/voice/confirm-number?try=0", SID, Digits="1")
    provider.post("/voice/confirm-number?try=0", SID, Digits="1")
    provider.post("/voice/incoming", SID)
    assert (count(Ticket), count(Callback), count(Call)) == (1, 1, 1)


def test_a_menu_is_repeated_once_then_takes_its_default(provider):
    provider.post("/voice/incoming", SID)
    repeated = provider.post("/voice/main-menu?try=0", SID, Digits="7")
    assert "Sorry, I did not get that." in heard(repeated)
    assert b"/voice/main-menu?try=1" in repeated.data
    # Silence on the repeat: the safe default is to report a new problem.
    assert "describe your problem" in heard(provider.post("/voice/main-menu?try=1", SID))


def test_no_answer_to_the_urgency_questions_gives_a_normal_priority(provider):
    provider.post("/voice/incoming", SID)
    provider.post("/voice/main-menu?try=0", SID, Digits="2")
    provider.post("/voice/recorded", SID)
    provider.post("/voice/urgency?try=1", SID)
    provider.post("/voice/impact?try=1", SID, Digits="*")
    assert db.session.scalars(select(Ticket)).one().priority == 4


def test_a_withheld_caller_id_goes_straight_to_keying_a_number(provider):
    response = report_problem(provider, impact="2", caller="anonymous")
    assert "Enter the phone number we should call you back on" in heard(response)
    response = provider.post("/voice/keyed-number?try=0", SID, "anonymous", Digits="0475123456")
    assert "We will call you back on 0 4 7 5, 1 2, 3 4, 5 6" in heard(response)
    provider.post("/voice/confirm-number?try=0", SID, "anonymous", Digits="1")
    assert db.session.scalars(select(Callback)).one().phone == "+32475123456"


def test_another_number_can_be_keyed_instead_of_the_caller_id(provider):
    report_problem(provider, impact="2")
    assert "Enter the phone number" in heard(provider.post("/voice/confirm-number?try=0", SID, Digits="2"))
    assert "That is not a phone number" in heard(provider.post("/voice/keyed-number?try=0", SID, Digits="12"))
    response = provider.post("/voice/keyed-number?try=1", SID, Digits="0033612345678")
    assert "plus 3 3, 6, 1 2, 3 4, 5 6, 7 8" in heard(response)
    provider.post("/voice/confirm-number?try=0", SID, Digits="1")
    assert db.session.scalars(select(Callback)).one().phone == "+33612345678"


def test_a_withheld_caller_who_cannot_key_a_number_still_has_a_ticket(provider):
    report_problem(provider, impact="2", caller="restricted")
    provider.post("/voice/keyed-number?try=0", SID, "restricted", Digits="99")
    text = heard(provider.post("/voice/keyed-number?try=1", SID, "restricted"))
    assert "We could not note a phone number" in text
    ticket = db.session.scalars(select(Ticket)).one()
    assert count(Callback) == 0
    assert "could not give a callback number" in ticket.notes[-1].body


def test_a_caller_who_hangs_up_while_recording_still_gets_a_ticket(provider):
    provider.post("/voice/incoming", SID)
    provider.post("/voice/main-menu?try=0", SID, Digits="2")
    provider.post("/voice/recorded", SID, RecordingUrl="https://rec.example/RE2", Digits="hangup")
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.recording_url == "https://rec.example/RE2"


def test_garbage_parameters_never_cause_an_error(provider):
    for path in ("/voice/incoming", "/voice/main-menu?try=zz", "/voice/urgency?try=-1", "/voice/keyed-number?try=0"):
        response = provider.post(path, "CA" + "\u00e9" * 70, "\x00" * 100, Digits="#*" * 50, SpeechResult="\ufffd")
        assert response.status_code == 200
        ET.fromstring(response.data)
