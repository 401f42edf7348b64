"""The console's wrap-up outcomes: spoke with the customer, voicemail or nobody, wrong number.

The attempt is driven by the engine functions the provider's webhooks call (claim, the
technician's 1, the Dial action reporting an answered call), so the console chooses what
the phone's after-call menu would have: the same ``attempts.after_call``.
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.tickets import ticket_store
from callbacks import attempts
from callbacks.dispatch import claim_batch
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, add_user, csrf_token_of, log_in

CUSTOMER = "+32470123456"


@pytest.fixture
def jan(client):
    technician = add_technician("Jan Janssens", "+32470000001", languages="en")
    add_user("jan", "technician", technician)
    log_in(client, "jan")
    client.token = csrf_token_of(client.get("/console").get_data(as_text=True))
    return technician


def answered_call(technician: Technician) -> CallbackAttempt:
    """A callback claimed for `technician`, accepted with 1, and its answered customer leg over (95 s)."""
    contact = add_contact("An Peeters", CUSTOMER)
    ticket = ticket_store().create(title="Mail server down", contact_id=contact.id, company_id=contact.company_id)
    queue_callback(ticket, CUSTOMER, 2, "en")
    [attempt] = claim_batch()
    assert attempt.technician_id == technician.id
    assert attempts.accept(attempt)
    attempts.customer_call_ended(attempt, "completed", 95)  # the Dial action: answered, the menu decides
    return attempt


def choose(client, attempt: CallbackAttempt, outcome: str):
    return client.post(
        f"/console/attempts/{attempt.id}/outcome",
        data={"outcome": outcome},
        headers={"HX-Request": "true", "X-CSRFToken": client.token},
    )


def reload(attempt: CallbackAttempt) -> tuple[CallbackAttempt, Callback, Technician]:
    db.session.expire_all()
    attempt = db.session.get(CallbackAttempt, attempt.id)
    return attempt, attempt.callback, attempt.technician


def test_the_three_outcomes_are_offered_only_once_the_answered_call_is_over(client, jan):
    contact = add_contact("An Peeters", CUSTOMER)
    ticket = ticket_store().create(title="Mail server down", contact_id=contact.id, company_id=contact.company_id)
    queue_callback(ticket, CUSTOMER, 2, "en")
    [attempt] = claim_batch()
    attempts.accept(attempt)
    during = client.get("/console/live").get_data(as_text=True)
    assert "On a call with the customer" in during and 'id="outcome"' not in during
    assert "already recorded" in choose(client, attempt, "voicemail").text  # not while talking
    attempts.customer_call_ended(attempt, "completed", 95)
    page = client.get("/console/live").get_data(as_text=True)
    assert "Wrap-up of your last call" in page and f"/console/attempts/{attempt.id}/outcome" in page
    for value, label in (
        ("connected", "I spoke with the customer"),
        ("voicemail", "Voicemail or nobody"),
        ("wrong_number", "Wrong number"),
    ):
        assert f'value="{value}"' in page and label in page


def test_voicemail_puts_the_callback_back_in_its_place_and_frees_the_technician(client, jan, redis):
    attempt = answered_call(jan)
    queued_at = attempt.callback.queued_at
    answer = choose(client, attempt, "voicemail")
    assert "waits in its place" in answer.text and 'id="outcome"' not in answer.text
    attempt, callback, technician = reload(attempt)
    assert (attempt.status, attempt.outcome, attempt.talk_seconds) == ("ended", "voicemail", 95)
    assert (callback.status, callback.attempts, callback.queued_at) == ("waiting", 1, queued_at)
    assert technician.state == "available"
    assert callback.ticket.notes[-1].body == "Callback attempt by Jan Janssens: customer not reached (voicemail)."
    assert redis.llen("rq:queue:dispatch") >= 1


def test_voicemail_on_the_last_try_gives_the_callback_up(client, jan):
    attempt = answered_call(jan)
    attempt.callback.attempts = client.application.config["MAX_ATTEMPTS"] - 1
    db.session.commit()
    choose(client, attempt, "voicemail")
    _, callback, _ = reload(attempt)
    assert (callback.status, callback.wrong_number) == ("unreachable", False)


def test_a_wrong_number_ends_unreachable_with_the_note_and_the_flag(client, jan):
    attempt = answered_call(jan)
    answer = choose(client, attempt, "wrong_number")
    assert "ends unreachable" in answer.text
    attempt, callback, technician = reload(attempt)
    assert attempt.outcome == "wrong_number"
    assert (callback.status, callback.wrong_number, technician.state) == ("unreachable", True, "available")
    assert f"wrong number ({CUSTOMER} reached someone else)" in callback.ticket.notes[-1].body


def test_spoke_with_the_customer_completes_it_and_starts_wrap_up(client, jan):
    attempt = answered_call(jan)
    answer = choose(client, attempt, "connected")
    assert "callback is completed" in answer.text and "Resolve ticket" in answer.text
    attempt, callback, technician = reload(attempt)
    assert (attempt.outcome, callback.status, technician.state) == ("connected", "completed", "wrap_up")
    assert 'id="outcome"' not in client.get("/console/live").get_data(as_text=True)


def test_an_outcome_is_chosen_once_and_the_phone_menu_then_changes_nothing(client, jan, provider):
    attempt = answered_call(jan)
    choose(client, attempt, "wrong_number")
    assert "already recorded" in choose(client, attempt, "connected").text
    heard = provider.post(f"/voice/agent/{attempt.id}/after-call", Digits="1").get_data(as_text=True)
    assert "Noted: a wrong number." in heard
    attempt, callback, _ = reload(attempt)
    assert (attempt.outcome, callback.status) == ("wrong_number", "unreachable")
    wrong_notes = [note for note in callback.ticket.notes if "wrong number" in note.body]
    assert len(wrong_notes) == 1


def test_the_phone_menu_first_leaves_nothing_to_choose(client, jan, provider):
    attempt = answered_call(jan)
    provider.post(f"/voice/agent/{attempt.id}/after-call", Digits="2")
    assert "already recorded" in choose(client, attempt, "connected").text
    attempt, callback, _ = reload(attempt)
    assert (attempt.outcome, callback.status) == ("voicemail", "waiting")


def test_garbage_another_technicians_attempt_and_a_missing_csrf_token_are_refused(client, jan):
    attempt = answered_call(jan)
    assert "Choose how the call went." in choose(client, attempt, "no_answer").text
    assert "Choose how the call went." in choose(client, attempt, "").text
    assert client.post(f"/console/attempts/{attempt.id}/outcome", data={"outcome": "voicemail"}).status_code == 400
    assert choose(client, type("Gone", (), {"id": 999999})(), "voicemail").status_code == 404
    attempt, callback, _ = reload(attempt)
    assert (attempt.status, attempt.outcome, callback.status) == ("dialing_customer", None, "in_progress")
    assert db.session.scalars(select(CallbackAttempt)).all() == [attempt]


def test_another_technicians_call_is_not_mine_to_wrap_up(client):
    jan = add_technician("Jan Janssens", "+32470000001", languages="en")
    attempt = answered_call(jan)
    piet = add_technician("Piet Peeters", "+32470000002", state="offline")
    add_user("piet", "technician", piet)
    log_in(client, "piet")
    client.token = csrf_token_of(client.get("/console").get_data(as_text=True))
    assert 'id="outcome"' not in client.get("/console/live").get_data(as_text=True)
    assert choose(client, attempt, "wrong_number").status_code == 404
    attempt, callback, _ = reload(attempt)
    assert (attempt.outcome, callback.status, callback.wrong_number) == (None, "in_progress", False)
