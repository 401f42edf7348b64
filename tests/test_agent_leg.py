"""The technician's leg: whisper, accept or skip, and the outcome of the customer call."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.tickets.sql import SqlTicketStore
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, claim_next

TECH_SID = "CA" + "7" * 32


@pytest.fixture
def offer(app):
    """A P2 callback from a known contact, claimed for technician Jan."""
    contact = add_contact("An Peeters", "+32470123456", company="Brouwerij De Klok")
    ticket = SqlTicketStore().create(title="Mail server down", priority=2, contact_id=contact.id)
    queue_callback(ticket, "+32470123456", 2, "en")
    add_technician("Jan", "+32470000001", languages="en,nl")
    return claim_next()


def states(attempt_id: int) -> tuple[str, str, str, str | None]:
    db.session.expire_all()
    attempt = db.session.get(CallbackAttempt, attempt_id)
    return attempt.callback.status, attempt.technician.state, attempt.status, attempt.outcome


def says(response) -> str:
    assert response.status_code == 200
    return " ".join(element.text or "" for element in ET.fromstring(response.data).iter("Say"))


def test_the_technician_hears_who_waits_and_why(provider, offer):
    text = says(provider.post(f"/voice/agent/{offer.id}/answer", TECH_SID, "+3234603535"))
    number = offer.callback.ticket.number
    assert "Callback for An Peeters, Brouwerij De Klok, priority 2." in text
    assert f"T, {' '.join(number[1:9])}, dot, {' '.join(number[10:])}: Mail server down." in text
    assert "To call the customer now, press 1. To skip this callback, press 2." in text


def test_the_whisper_is_in_the_technicians_first_language(provider, offer):
    offer.technician.languages = "fr,en"
    db.session.commit()
    text = says(provider.post(f"/voice/agent/{offer.id}/answer", TECH_SID))
    assert "Rappel pour An Peeters, Brouwerij De Klok, priorité 2." in text
    assert "Pour appeler le client maintenant, appuyez sur 1." in text


def test_pressing_1_dials_the_customer_with_the_desk_number(provider, offer):
    provider.post(f"/voice/agent/{offer.id}/answer", TECH_SID)
    response = provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    dial = ET.fromstring(response.data).find("Dial")
    assert dial.get("callerId") == "+3234603535"
    assert dial.find("Number").text == "+32470123456"
    assert states(offer.id) == ("in_progress", "on_call", "dialing_customer", None)


def test_a_connected_call_completes_the_callback_and_starts_wrap_up(provider, offer):
    provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    response = provider.post(
        f"/voice/agent/{offer.id}/dialed", TECH_SID, DialCallStatus="completed", DialCallDuration="95"
    )
    assert "If you spoke with the customer, press 1." in says(response)
    response = provider.post(f"/voice/agent/{offer.id}/after-call?try=0", TECH_SID, Digits="1")
    assert "wrap-up" in says(response)
    assert states(offer.id) == ("completed", "wrap_up", "ended", "connected")
    callback = db.session.get(Callback, offer.callback_id)
    assert callback.attempts == 1
    assert "connected (95 s)" in callback.ticket.notes[-1].body


@pytest.mark.parametrize(
    ("dial_status", "outcome"), [("no-answer", "no_answer"), ("busy", "busy"), ("failed", "failed")]
)
def test_a_customer_not_reached_goes_back_to_waiting_at_its_place(provider, offer, dial_status, outcome):
    queued_at = offer.callback.queued_at
    provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    provider.post(f"/voice/agent/{offer.id}/dialed", TECH_SID, DialCallStatus=dial_status)
    assert states(offer.id) == ("waiting", "available", "ended", outcome)
    callback = db.session.get(Callback, offer.callback_id)
    assert callback.attempts == 1 and callback.queued_at == queued_at and callback.due_at > queued_at


def test_the_last_failed_attempt_makes_the_callback_unreachable(provider, offer, app):
    db.session.get(Callback, offer.callback_id).attempts = app.config["MAX_ATTEMPTS"] - 1
    db.session.commit()
    provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    provider.post(f"/voice/agent/{offer.id}/dialed", TECH_SID, DialCallStatus="no-answer")
    assert states(offer.id)[0] == "unreachable"
    assert "given up" in db.session.get(Callback, offer.callback_id).ticket.notes[-1].body


def test_the_dial_action_and_the_status_callback_count_once(provider, offer):
    provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    provider.post(f"/voice/status?attempt={offer.id}&leg=customer", "CA" + "8" * 32, CallStatus="no-answer")
    provider.post(f"/voice/agent/{offer.id}/dialed", TECH_SID, DialCallStatus="no-answer")
    provider.post(f"/voice/agent/{offer.id}/dialed", TECH_SID, DialCallStatus="no-answer")
    assert db.session.get(Callback, offer.callback_id).attempts == 1


def test_skipping_passes_the_callback_on_without_counting_an_attempt(provider, offer):
    response = provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="2")
    assert "goes to a colleague" in says(response)
    assert states(offer.id) == ("waiting", "available", "ended", "technician_skipped")
    callback = db.session.get(Callback, offer.callback_id)
    assert callback.attempts == 0 and callback.due_at <= callback.status_since


def test_an_offer_that_rings_out_is_a_miss_and_two_misses_set_the_technician_away(provider, offer):
    provider.post(f"/voice/status?attempt={offer.id}", TECH_SID, CallStatus="no-answer")
    assert states(offer.id) == ("waiting", "available", "ended", "technician_missed")
    second = claim_next()
    assert second.technician_id == offer.technician_id
    provider.post(f"/voice/status?attempt={second.id}", "CA" + "9" * 32, CallStatus="no-answer")
    assert db.session.get(Technician, offer.technician_id).state == "away"


def test_an_offer_already_taken_care_of_is_not_whispered(provider, offer):
    provider.post(f"/voice/status?attempt={offer.id}", TECH_SID, CallStatus="no-answer")
    assert "already been taken care of" in says(provider.post(f"/voice/agent/{offer.id}/answer", TECH_SID))
    response = provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    assert ET.fromstring(response.data).find("Dial") is None


def test_silence_at_the_whisper_repeats_once_then_passes_the_callback_on(provider, offer):
    assert "Sorry, I did not get that." in says(provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID))
    provider.post(f"/voice/agent/{offer.id}/choice?try=1", TECH_SID)
    assert states(offer.id) == ("waiting", "available", "ended", "technician_missed")


def test_a_replayed_accept_dials_once_and_changes_nothing(provider, offer):
    first = provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    again = provider.post(f"/voice/agent/{offer.id}/choice?try=0", TECH_SID, Digits="1")
    assert first.data == again.data
    assert len(db.session.scalars(select(CallbackAttempt)).all()) == 1
    assert states(offer.id) == ("in_progress", "on_call", "dialing_customer", None)
