"""The board, console, API, login and survey pages when the database is down, and after a bug.

The database "goes down" by refusing every new connection (the pool is emptied
first), which is what the desk sees when PostgreSQL stops or a SQLite file
cannot be opened. It comes back when the test's ``with`` block ends.
"""

from contextlib import contextmanager

import pytest
from flask import g
from sqlalchemy import event, select

from app import surveys
from app.extensions import db
from app.models import Survey, Technician
from app.web import board
from app.web.accounts import new_token
from app.web.openapi import document
from tests.helpers import add_technician, add_user, csrf_token_of, log_in
from tests.test_survey import closed_ticket


@contextmanager
def database_down():
    engine = db.engine
    refused = engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_args):
        raise refused("connection refused: the database is down")

    db.session.remove()
    # The tests share one app context: forget the user an earlier request loaded, as a new request would.
    g.pop("_login_user", None)
    engine.dispose()
    event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)


@pytest.fixture
def manager(client):
    add_user("boss")
    log_in(client, "boss")
    return client


def test_the_board_says_the_desk_is_unavailable_and_comes_back(manager):
    with database_down():
        page = manager.get("/board")
        live = manager.get("/board/live", headers={"HX-Request": "true"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    text = page.get_data(as_text=True)
    assert "The desk is briefly unavailable" in text and "database does not answer" in text
    assert "Traceback" not in text and "OperationalError" not in text
    # htmx keeps the page as it was; desk.js shows this text in a banner.
    assert live.status_code == 503 and live.mimetype == "text/plain"
    assert live.get_data(as_text=True).startswith("The desk's database does not answer right now.")
    assert manager.get("/board").status_code == 200


def test_a_board_action_during_the_outage_changes_nothing_and_says_so(manager):
    token = csrf_token_of(manager.get("/board").get_data(as_text=True))
    jan = add_technician("Jan", "+32470000001", state="away").id
    with database_down():
        answer = manager.post(
            f"/board/technicians/{jan}/state",
            data={"state": "available"},
            headers={"HX-Request": "true", "X-CSRFToken": token},
        )
    assert answer.status_code == 503 and "Nothing was changed" in answer.get_data(as_text=True)
    assert db.session.get(Technician, jan).state == "away"


def test_the_api_answers_503_in_json(client):
    token = new_token(add_user("api-boss"))
    with database_down():
        answer = client.get("/api/queue", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json["error"] == "unavailable" and "database does not answer" in answer.json["message"]
    operations = [operation for path in document()["paths"].values() for operation in path.values()]
    # The API says so in its document, for every operation that reads the database (all that need a token).
    assert all("503" in operation["responses"] for operation in operations if "401" in operation["responses"])


def test_logging_in_during_the_outage_is_refused_politely(client):
    add_user("boss")
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    with database_down():
        answer = client.post("/login", data={"username": "boss", "password": "x", "csrf_token": token})
    assert answer.status_code == 503 and "The desk is briefly unavailable" in answer.get_data(as_text=True)


def test_a_survey_link_clicked_during_the_outage_keeps_its_rating_for_later(app, client):
    closed_ticket(language="fr")
    survey = db.session.scalars(select(Survey)).one()
    link = surveys.rating_url(survey, 5).removeprefix(app.config["PUBLIC_BASE_URL"])
    with database_down():
        answer = client.post(link, headers={"Accept-Language": "fr-BE,fr;q=0.9"})
    assert answer.status_code == 503
    assert "Nous n'avons pas pu enregistrer votre réponse" in answer.get_data(as_text=True)
    assert client.post(link).status_code == 200  # the rating is sent again once the database is back
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).rating == 5


def test_a_bug_behind_a_page_gets_a_plain_500_without_a_traceback(app, manager, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(board, "board_context", broken)
    page = manager.get("/board")
    assert page.status_code == 500 and "Something went wrong" in page.get_data(as_text=True)
    assert "RuntimeError" not in page.get_data(as_text=True)
    live = manager.get("/board/live", headers={"HX-Request": "true"})
    assert live.status_code == 500 and live.mimetype == "text/plain"
