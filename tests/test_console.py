"""The technician's console: state, the offer or call with its context, wrap-up notes, resolving."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician, Ticket
from app.tickets import ticket_store
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, add_user, csrf_token_of, log_in


@pytest.fixture
def jan(client):
    """Jan's technician record, with Jan logged in to the console on `client`."""
    technician = add_technician("Jan Janssens", "+32470000001", state="offline")
    add_user("jan", "technician", technician)
    log_in(client, "jan")
    client.token = csrf_token_of(client.get("/console").get_data(as_text=True))
    return technician


def post(client, path: str, **form):
    return client.post(path, data=form, headers={"HX-Request": "true", "X-CSRFToken": client.token})


def callback_for(technician: Technician, contract: str, status: str, outcome: str | None = None) -> CallbackAttempt:
    """A callback of An (company with `contract`) and an attempt of `technician` in the given state."""
    contact = add_contact("An Peeters", "+32470123456", company="Brouwerij De Klok", contract=contract)
    ticket = ticket_store().create(title="Mail server down", contact_id=contact.id, company_id=contact.company_id)
    callback, _ = queue_callback(ticket, "+32470123456", 2, "nl")
    earlier = CallbackAttempt(
        callback_id=callback.id,
        technician_id=technician.id,
        status="ended",
        outcome="no_answer",
        started_at=utcnow() - timedelta(minutes=15),
        ended_at=utcnow() - timedelta(minutes=14),
    )
    attempt = CallbackAttempt(callback_id=callback.id, technician_id=technician.id, status=status, outcome=outcome)
    if outcome:
        attempt.ended_at, attempt.talk_seconds = utcnow(), 95
    db.session.add_all([earlier, attempt])
    db.session.commit()
    return attempt


def test_going_available_triggers_dispatch_and_going_away_does_not(client, jan, redis):
    assert "You are available." in post(client, "/console/state", state="available").text
    triggers = redis.llen("rq:queue:dispatch")
    assert triggers >= 1  # a trigger (the client may resend on a slow Redis)
    assert "You are away." in post(client, "/console/state", state="away").text
    assert redis.llen("rq:queue:dispatch") == triggers
    db.session.expire_all()
    assert db.session.get(Technician, jan.id).state == "away"


def test_a_technician_cannot_choose_states_the_engine_owns(client, jan):
    assert "Choose available or away." in post(client, "/console/state", state="on_call").text
    jan.state = "offered"
    db.session.commit()
    assert "is offered; cannot go away now" in post(client, "/console/state", state="away").text


def test_an_offer_shows_customer_company_contract_and_past_attempts(client, jan):
    callback_for(jan, "wise", status="ringing_technician")
    page = client.get("/console/live").get_data(as_text=True)
    assert "Offer ringing on your phone" in page
    for shown in ("An Peeters", "Brouwerij De Klok", "Wise", "on-site visits included", "Mail server down"):
        assert shown in page
    attempts = page.split('id="attempts"')[1].split("</table>")[0]
    assert "no answer" in attempts and "ringing technician" in attempts


def test_a_basic_contract_says_on_site_visits_are_not_included(client, jan):
    callback_for(jan, "basic", status="dialing_customer")
    page = client.get("/console/live").get_data(as_text=True)
    assert "On a call with the customer" in page and "on-site visits not included" in page


def test_wrap_up_notes_go_to_the_ticket_and_resolving_closes_it(client, jan):
    attempt = callback_for(jan, "magic", status="ended", outcome="connected")
    jan.state = "wrap_up"
    db.session.commit()
    ticket_id = attempt.callback.ticket_id
    page = client.get("/console/live").get_data(as_text=True)
    assert "Wrap-up of your last call" in page and "Ready for the next call" in page

    saved = post(client, f"/console/tickets/{ticket_id}/notes", note="Restarted the mail server; works again.")
    assert "Note saved to ticket" in saved.text
    assert "Jan Janssens: Restarted the mail server; works again." in saved.text
    assert "Write a note first" in post(client, f"/console/tickets/{ticket_id}/notes", note="  ").text

    resolved = post(client, f"/console/tickets/{ticket_id}/resolve").text
    assert "resolved and closed" in resolved and "No offer or call right now." in resolved
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.status == "closed" and ticket.closed_at is not None
    assert ticket.notes[-1].body == "Jan Janssens: Restarted the mail server; works again."


def test_ready_for_the_next_call_ends_wrap_up_early_and_triggers_dispatch(client, jan, redis):
    callback_for(jan, "magic", status="ended", outcome="connected")
    jan.state, jan.wrap_up_until = "wrap_up", utcnow() + timedelta(minutes=5)
    db.session.commit()
    post(client, "/console/state", state="available")
    db.session.expire_all()
    technician = db.session.get(Technician, jan.id)
    assert (technician.state, technician.wrap_up_until) == ("available", None)
    assert redis.llen("rq:queue:dispatch") >= 1  # a trigger (the client may resend on a slow Redis)


def test_a_technician_cannot_touch_a_ticket_they_never_worked_on(client, jan):
    other = ticket_store().create(title="Someone else's")
    assert post(client, f"/console/tickets/{other.id}/notes", note="hi").status_code == 404
    assert post(client, f"/console/tickets/{other.id}/resolve").status_code == 404
    assert post(client, "/console/tickets/999999/resolve").status_code == 404
    db.session.expire_all()
    assert db.session.get(Ticket, other.id).status != "closed"


def test_the_console_is_idle_without_an_offer(client, jan):
    page = client.get("/console").get_data(as_text=True)
    assert "No offer or call right now." in page and 'hx-get="/console/live"' in page
    assert db.session.scalars(select(Callback)).first() is None


def tomorrow_at_ten() -> str:
    return (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT10:00")


def test_an_on_site_visit_is_planned_free_under_a_wise_contract(client, jan):
    attempt = callback_for(jan, "wise", status="dialing_customer")
    page = client.get("/console/live").get_data(as_text=True)
    assert "Plan on-site visit" in page and "agreed as billable" not in page
    answer = post(client, f"/console/tickets/{attempt.callback.ticket_id}/onsite", when=tomorrow_at_ten())
    assert "On-site visit planned" in answer.text
    note = db.session.get(Ticket, attempt.callback.ticket_id).notes[-1].body
    assert "10:00 by Jan Janssens: included in the Wise contract, at no cost." in note


def test_an_on_site_visit_under_basic_needs_the_customers_agreement_to_pay(client, jan):
    attempt = callback_for(jan, "basic", status="dialing_customer")
    path = f"/console/tickets/{attempt.callback.ticket_id}/onsite"
    assert "agreed as billable" in client.get("/console/live").get_data(as_text=True)
    assert "the visit is billable" in post(client, path, when=tomorrow_at_ten()).text
    assert "On-site visit planned" in post(client, path, when=tomorrow_at_ten(), billable="1").text
    assert (
        "billable, not included (the Basic contract)"
        in db.session.get(Ticket, attempt.callback.ticket_id).notes[-1].body
    )


@pytest.mark.parametrize("when", ["", "tomorrow", "2020-01-01T10:00"])
def test_an_on_site_visit_needs_a_time_still_to_come(client, jan, when):
    attempt = callback_for(jan, "magic", status="dialing_customer")
    answer = post(client, f"/console/tickets/{attempt.callback.ticket_id}/onsite", when=when).text
    assert "Choose the day and time of the visit." in answer or "a time still to come" in answer
