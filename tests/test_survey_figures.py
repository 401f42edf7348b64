"""Satisfaction on the manager's board and in the JSON API."""

import re
from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.models import Contact
from app.tickets import ticket_store
from app.web.accounts import new_token
from tests.helpers import add_technician, add_user, log_in, run_jobs


def rate(app, client, mailbox, rating: int | None) -> None:
    """Close a ticket, send its survey, and follow the link for ``rating`` (None: no answer)."""
    contact = Contact(name="An Peeters", email="an@deklok.example", language="en")
    db.session.add(contact)
    db.session.commit()
    ticket = ticket_store().create(title="Mail", priority=3, contact_id=contact.id)
    ticket_store().close(ticket)
    run_jobs(app)
    if rating is not None:
        text = mailbox.messages[-1].get_body(("plain",)).get_content()
        links = re.findall(r"http://desk\.test(/survey/\S+)", text)
        client.post(links[rating - 1])


@pytest.fixture
def manager_token(app) -> str:
    return new_token(add_user("boss"))


def test_the_api_gives_ratings_and_the_response_rate(app, client, mailbox, manager_token):
    for rating in (5, 3, None, None):
        rate(app, client, mailbox, rating)
    answer = client.get("/api/csat", headers={"Authorization": f"Bearer {manager_token}"})
    assert answer.status_code == 200
    body = answer.json
    assert (body["ratings"], body["average"], body["surveys_sent"], body["response_rate"]) == (2, 4.0, 4, 0.5)
    assert body["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}
    assert body["since"].endswith("Z")
    later = (utcnow() + timedelta(minutes=1)).isoformat() + "+00:00"
    empty = client.get("/api/csat", query_string={"since": later}, headers={"Authorization": f"Bearer {manager_token}"})
    assert (empty.json["ratings"], empty.json["response_rate"]) == (0, None)


def test_the_api_refuses_a_bad_since_and_technicians(app, client, manager_token):
    bad = client.get("/api/csat?since=yesterday", headers={"Authorization": f"Bearer {manager_token}"})
    assert bad.status_code == 400 and bad.json["error"] == "bad_since"
    technician = add_user("jan", role="technician", technician=add_technician("Jan Janssens", "+32470000001"))
    refused = client.get("/api/csat", headers={"Authorization": f"Bearer {new_token(technician)}"})
    assert refused.status_code == 403


def test_the_board_shows_csat_and_the_response_rate(app, client, mailbox):
    for rating in (4, None):
        rate(app, client, mailbox, rating)
    add_user("boss")
    log_in(client, "boss")
    live = client.get("/board/live").get_data(as_text=True)
    assert re.search(r'data-figure="csat">4\.0<', live)
    assert re.search(r"CSAT /5 · 1 rating · 50% answered", live)
