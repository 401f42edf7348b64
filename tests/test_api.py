"""The JSON API: bearer tokens, roles, the resources, and clear 4xx answers for bad input."""

import pytest

from app.extensions import db
from app.models import Callback, Technician
from app.tickets import ticket_store
from app.web.accounts import new_token
from callbacks.queue import queue_callback
from tests.helpers import add_contact, add_technician, add_user


@pytest.fixture
def manager_token(app) -> str:
    return new_token(add_user("boss"))


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def waiting_callback(phone: str = "+32470123456", priority: int = 3) -> Callback:
    contact = add_contact("An Peeters", phone, company="Brouwerij De Klok", contract="wise")
    ticket = ticket_store().create(title="Mail server down", contact_id=contact.id, company_id=contact.company_id)
    return queue_callback(ticket, phone, priority, "nl")[0]


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic Ym9zczpwYXNz", "Bearer "])
def test_without_a_valid_token_the_api_answers_401_in_json(client, manager_token, header):
    answer = client.get("/api/queue", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401 and answer.json["error"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_queue_has_positions_and_the_technicians(client, manager_token):
    later = waiting_callback("+32470123456", priority=4)
    first = waiting_callback("+32475987654", priority=2)
    add_technician("Jan Janssens", "+32470000001")
    queue = client.get("/api/queue", headers=auth(manager_token)).json
    positions = {entry["id"]: entry["position"] for entry in queue["callbacks"]}
    assert positions == {first.id: 1, later.id: 2}
    assert set(queue["callbacks"][0]) == {
        "id",
        "status",
        "priority",
        "phone",
        "ticket_number",
        "position",
        "attempts",
        "language",
        "scheduled_for",
        "outcomes",
        "wrong_number",
    }
    assert queue["technicians"][0]["languages"] == ["nl", "en"]


def test_one_callback_and_one_ticket(client, manager_token):
    callback = waiting_callback()
    answer = client.get(f"/api/callbacks/{callback.id}", headers=auth(manager_token)).json
    assert (answer["status"], answer["position"], answer["attempt_history"]) == ("waiting", 1, [])
    assert answer["queued_at"].endswith("Z")
    ticket = client.get(f"/api/tickets/{answer['ticket_number']}", headers=auth(manager_token)).json
    assert (ticket["title"], ticket["company"], ticket["contract"]) == ("Mail server down", "Brouwerij De Klok", "wise")


@pytest.mark.parametrize(
    "path", ["/api/callbacks/999", "/api/callbacks/abc", "/api/callbacks/99999999999999999999", "/api/tickets/T1"]
)
def test_missing_records_are_json_404s(client, manager_token, path):
    answer = client.get(path, headers=auth(manager_token))
    assert answer.status_code == 404 and answer.json["error"] == "not_found"


def test_unknown_paths_and_methods_answer_json(client, manager_token):
    assert client.get("/api/nothing-here", headers=auth(manager_token)).json["error"] == "not_found"
    wrong = client.delete("/api/queue", headers=auth(manager_token))
    assert wrong.status_code == 405 and wrong.json["error"] == "method_not_allowed" and "GET" in wrong.headers["Allow"]
    assert client.get("/no-such-page").mimetype == "text/html"  # outside /api, Flask's own page


def test_a_manager_sets_a_technician_state(client, manager_token, redis):
    jan = add_technician("Jan Janssens", "+32470000001", state="away")
    answer = client.post(f"/api/technicians/{jan.id}/state", json={"state": "available"}, headers=auth(manager_token))
    assert answer.status_code == 200 and answer.json["state"] == "available"
    assert redis.llen("rq:queue:dispatch") >= 1  # a trigger (the client may resend on a slow Redis)


@pytest.mark.parametrize("body", [{"state": "on_call"}, {"state": 3}, {}, ["available"], None])
def test_a_bad_state_is_a_400(client, manager_token, body):
    jan = add_technician("Jan Janssens", "+32470000001")
    answer = client.post(f"/api/technicians/{jan.id}/state", json=body, headers=auth(manager_token))
    assert answer.status_code == 400 and "available" in answer.json["message"]


def test_a_technician_on_a_call_cannot_be_set_away_409(client, manager_token):
    jan = add_technician("Jan Janssens", "+32470000001", state="on_call")
    answer = client.post(f"/api/technicians/{jan.id}/state", json={"state": "away"}, headers=auth(manager_token))
    assert answer.status_code == 409 and "on call" in answer.json["message"]


def test_a_technician_may_read_and_set_only_their_own_state(client):
    jan = add_technician("Jan Janssens", "+32470000001", state="away")
    marie = add_technician("Marie Dubois", "+32470000002", state="away")
    token = new_token(add_user("jan", "technician", jan))
    assert client.get("/api/technicians", headers=auth(token)).status_code == 200
    own = client.post(f"/api/technicians/{jan.id}/state", json={"state": "available"}, headers=auth(token))
    assert own.status_code == 200
    other = client.post(f"/api/technicians/{marie.id}/state", json={"state": "available"}, headers=auth(token))
    assert other.status_code == 403
    callback = waiting_callback()
    assert client.post(f"/api/callbacks/{callback.id}/cancel", headers=auth(token)).status_code == 403
    db.session.expire_all()
    assert db.session.get(Technician, marie.id).state == "away"


def test_a_manager_cancels_a_callback_once(client, manager_token):
    callback = waiting_callback()
    answer = client.post(f"/api/callbacks/{callback.id}/cancel", headers=auth(manager_token))
    assert answer.status_code == 200 and answer.json["status"] == "cancelled"
    again = client.post(f"/api/callbacks/{callback.id}/cancel", headers=auth(manager_token))
    assert again.status_code == 409 and "cannot be cancelled" in again.json["message"]


def test_a_manager_reprioritises_a_callback(client, manager_token):
    callback = waiting_callback(priority=4)
    answer = client.post(f"/api/callbacks/{callback.id}/priority", json={"priority": 1}, headers=auth(manager_token))
    assert answer.status_code == 200 and (answer.json["priority"], answer.json["position"]) == (1, 1)


@pytest.mark.parametrize("body", [{"priority": 0}, {"priority": 5}, {"priority": "1"}, {"priority": True}, {}, None])
def test_a_bad_priority_is_a_400(client, manager_token, body):
    callback = waiting_callback(priority=4)
    answer = client.post(f"/api/callbacks/{callback.id}/priority", json=body, headers=auth(manager_token))
    assert answer.status_code == 400 and "1 | 2 | 3 | 4" in answer.json["message"]


def test_a_finished_callback_keeps_its_priority_409(client, manager_token):
    callback = waiting_callback()
    callback.status = "completed"
    db.session.commit()
    answer = client.post(f"/api/callbacks/{callback.id}/priority", json={"priority": 1}, headers=auth(manager_token))
    assert answer.status_code == 409


def test_the_openapi_document_is_served_without_a_token(client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.") and "/api/callbacks/{callback_id}/priority" in document["paths"]
