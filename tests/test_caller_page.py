"""The caller's own callback page /c/<token>: shows, moves and cancels, in the caller's language."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import callback_links
from app.clock import local
from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician, TicketNote
from app.tickets import ticket_store
from app.web.figures import day_figures
from callbacks.queue import queue_callback
from tests.helpers import add_technician, claim_next

TITLES = {"nl": "Uw terugbelverzoek", "fr": "Votre rappel", "en": "Your callback"}
INVALID = {
    "nl": "Deze link is niet meer geldig.",
    "fr": "Ce lien n'est plus valable.",
    "en": "This link is no longer valid.",
}


def queued(language: str = "en") -> Callback:
    ticket = ticket_store().create(title="Printer", priority=3)
    return queue_callback(ticket, "+32470123456", 3, language)[0]


def token_of(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_page_shows_the_ticket_and_the_place_in_the_callers_language(client, language):
    callback = queued(language)
    html = client.get(f"/c/{callback_links.token_for(callback.id)}").get_data(as_text=True)
    assert TITLES[language] in html and callback.ticket.number in html
    assert {"nl": "U bent nummer 1", "fr": "Vous êtes numéro 1", "en": "You are number 1"}[language] in html
    assert f'lang="{language}"' in html and 'name="viewport"' in html


def test_moving_then_cancelling_and_the_reused_link(client):
    callback = queued()
    path = f"/c/{callback_links.token_for(callback.id)}"
    csrf = token_of(client, path)
    window = re.search(r'name="window" value="(\d+)"', client.get(path).get_data(as_text=True)).group(1)
    moved = client.post(f"{path}/move", data={"csrf_token": csrf, "window": window})
    assert moved.status_code == 200 and "Your callback is moved." in moved.get_data(as_text=True)
    db.session.refresh(callback)
    assert callback.scheduled_for is not None and callback.moves == 1 and callback.due_at == callback.scheduled_for
    assert "We will call you back on" in client.get(path).get_data(as_text=True)

    cancelled = client.post(f"{path}/cancel", data={"csrf_token": csrf})
    assert "Your callback has been cancelled." in cancelled.get_data(as_text=True)
    db.session.refresh(callback)
    assert (callback.status, callback.cancelled_by) == ("cancelled", "caller")
    notes = db.session.scalars(select(TicketNote.body).where(TicketNote.ticket_id == callback.ticket_id)).all()
    assert any(note.startswith("Callback moved to") for note in notes)
    assert "Callback cancelled by the caller, on their callback page." in notes

    again = client.post(f"{path}/cancel", data={"csrf_token": csrf})
    assert again.status_code == 410 and INVALID["en"] in again.get_data(as_text=True)
    assert INVALID["en"] in client.get(path).get_data(as_text=True)
    figures = day_figures()
    assert (figures["moved_by_caller"], figures["cancelled_by_caller"]) == (1, 1)


def test_a_forged_token_a_foreign_window_and_a_missing_csrf_token_change_nothing(client):
    callback = queued("fr")
    path = f"/c/{callback_links.token_for(callback.id)}"
    forged = client.get(f"/c/{callback_links.token_for(callback.id)[:-2]}xx", headers={"Accept-Language": "fr"})
    assert forged.status_code == 404 and INVALID["fr"] in forged.get_data(as_text=True)
    assert client.post(f"{path}/cancel").status_code == 400  # no CSRF token
    csrf = token_of(client, path)
    refused = client.post(f"{path}/move", data={"csrf_token": csrf, "window": "12345"})
    assert refused.status_code == 400
    db.session.refresh(callback)
    assert (callback.status, callback.scheduled_for) == ("waiting", None)


def test_a_callback_being_offered_cannot_be_moved(client):
    callback = queued()
    path = f"/c/{callback_links.token_for(callback.id)}"
    csrf = token_of(client, path)
    window = re.search(r'name="window" value="(\d+)"', client.get(path).get_data(as_text=True)).group(1)
    callback.status = "in_progress"
    db.session.commit()
    refused = client.post(f"{path}/move", data={"csrf_token": csrf, "window": window})
    assert refused.status_code == 409 and "A technician is already calling you back" in refused.get_data(as_text=True)
    db.session.refresh(callback)
    assert callback.scheduled_for is None


def test_cancelling_while_a_technician_is_being_rung_ends_the_offer(client):
    callback = queued()
    technician = add_technician("Jan", "+32470000111", languages="en")
    attempt = claim_next()
    assert attempt.callback_id == callback.id
    path = f"/c/{callback_links.token_for(callback.id)}"
    page = client.get(path).get_data(as_text=True)
    assert "A technician is calling you back now." in page and 'id="cancel"' in page
    cancelled = client.post(f"{path}/cancel", data={"csrf_token": token_of(client, path)})
    assert "Your callback has been cancelled." in cancelled.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "cancelled"
    assert db.session.get(CallbackAttempt, attempt.id).outcome == "cancelled"
    assert db.session.get(Technician, technician.id).state == "available"


def test_too_many_requests_from_one_address_get_a_polite_429_and_change_nothing(client, app):
    app.config["CALLER_PAGE_LIMIT"] = "3 per minute"
    callback = queued("fr")
    path = f"/c/{callback_links.token_for(callback.id)}"
    csrf = token_of(client, path)  # the 1st request
    for _ in range(2):
        assert client.get("/c/forged-token").status_code == 404
    refused = client.post(f"{path}/cancel", data={"csrf_token": csrf}, headers={"Accept-Language": "fr"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Trop de demandes depuis votre connexion." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Callback, callback.id).status == "waiting"


def test_a_retry_says_when_the_next_try_is(client):
    callback = queued("nl")
    callback.due_at = callback.due_at + timedelta(minutes=10)
    callback.attempts = 1
    db.session.commit()
    html = client.get(f"/c/{callback_links.token_for(callback.id)}").get_data(as_text=True)
    assert f"We proberen u opnieuw te bellen om {local(callback.due_at):%H:%M}." in html
