"""The phone lab's server side: only with the emulator, logged in, relayed to the emulator's control API."""

import time

import pytest

from tests.helpers import add_contact, add_technician, add_user, build_app, csrf_token_of, empty_tables, log_in

CUSTOMER = "+32470123456"
JAN = "+32470000001"


def json_post(client, path: str, token: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": token})


@pytest.fixture
def lab_client(desk):
    """A manager logged in on the desk served with the emulator, and the session's CSRF token."""
    add_user("boss")
    add_technician("Jan Janssens", JAN)
    add_contact("An Peeters", CUSTOMER)
    client = desk.app.test_client()
    log_in(client, "boss")
    client.token = csrf_token_of(client.get("/board").get_data(as_text=True))
    return client


@pytest.mark.parametrize("base_url", ["", "https://api.twilio.com", "https://voice.example.net:8443"])
def test_the_lab_is_404_unless_the_emulator_stands_in_for_twilio(monkeypatch, migrated, tmp_path, redis, base_url):
    app = build_app(monkeypatch, migrated, tmp_path, TWILIO_API_BASE_URL=base_url)
    empty_tables(app)
    with app.app_context():
        add_user("boss")
        client = app.test_client()
        log_in(client, "boss")
        assert client.get("/lab").status_code == 404
        assert client.get("/lab/handsets").status_code == 404
        assert "Phone lab" not in client.get("/board").get_data(as_text=True)


def test_the_lab_needs_a_login(desk):
    assert desk.app.test_client().get("/lab").status_code == 401


def test_the_lab_page_offers_the_technicians_and_customers_phones(lab_client):
    page = lab_client.get("/lab").get_data(as_text=True)
    assert f'data-number="{JAN}"' in page and f'value="{CUSTOMER}"' in page and "lab.js" in page
    assert "Phone lab" in lab_client.get("/board").get_data(as_text=True)


def test_taking_the_phones_makes_them_interactive_in_the_emulator(lab_client, desk):
    answer = json_post(lab_client, "/lab/handsets", lab_client.token, {"customer": "0470 12 34 56"})
    assert answer.status_code == 200 and answer.json["handsets"] == [CUSTOMER, JAN]
    assert desk.emulator.phones[JAN].interactive and desk.emulator.phones[CUSTOMER].interactive
    states = lab_client.get("/lab/handsets").json
    assert states[JAN]["status"] == "idle" and states[CUSTOMER]["call"] is None


def test_a_call_from_the_lab_reaches_the_desk_through_signed_webhooks(lab_client, desk):
    json_post(lab_client, "/lab/handsets", lab_client.token, {"customer": CUSTOMER})
    placed = json_post(lab_client, f"/lab/handsets/{CUSTOMER}/call", lab_client.token)
    assert placed.status_code == 201
    deadline = time.monotonic() + 15
    while lab_client.get("/lab/handsets").json[CUSTOMER]["listening"] is None and time.monotonic() < deadline:
        time.sleep(0.1)
    state = lab_client.get("/lab/handsets").json[CUSTOMER]
    assert state["status"] == "in-call" and "Welcome" in " ".join(state["call"]["heard"])
    assert json_post(lab_client, f"/lab/handsets/{CUSTOMER}/hangup", lab_client.token).status_code == 200
    desk.emulator.wait_idle()
    request = desk.emulator.requests[0]
    assert request["url"].endswith("/voice/incoming") and request["status"] == 200


@pytest.mark.parametrize("body", [{}, {"customer": "not a number"}])
def test_taking_the_phones_needs_a_customer_number(lab_client, body):
    answer = json_post(lab_client, "/lab/handsets", lab_client.token, body)
    assert answer.status_code == 400 and "customer phone" in answer.json["error"]


def test_lab_actions_are_checked_before_relaying(lab_client):
    assert json_post(lab_client, f"/lab/handsets/{CUSTOMER}/explode", lab_client.token).status_code == 404
    assert json_post(lab_client, "/lab/handsets/nonsense/call", lab_client.token).status_code == 404
    assert json_post(lab_client, f"/lab/handsets/{CUSTOMER}/call", lab_client.token).status_code == 404  # not taken
    assert lab_client.post(f"/lab/handsets/{CUSTOMER}/call", json={}).status_code == 400  # no CSRF token


def test_the_lab_says_so_when_the_emulator_is_down(lab_client, desk):
    desk.app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:9"
    answer = lab_client.get("/lab/handsets")
    assert answer.status_code == 503 and "does not answer" in answer.json["error"]
