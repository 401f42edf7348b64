"""The managers' user page: the accounts with their role and technician, and adding one."""

from app.models import User
from app.web.accounts import authenticate
from tests.helpers import add_technician, add_user, csrf_token_of, log_in


def manager(client):
    add_user("boss")
    log_in(client, "boss")
    return csrf_token_of(client.get("/admin/users").get_data(as_text=True))


def test_a_manager_adds_a_technician_account_linked_to_its_technician(client):
    token = manager(client)
    jan = add_technician("Jan Janssens", "+32470000001")
    form = {
        "csrf_token": token,
        "username": "jan",
        "role": "technician",
        "technician": jan.id,
        "password": "long-enough",
    }
    assert client.post("/admin/users/new", data=form).status_code == 302
    assert authenticate("jan", "long-enough").technician_id == jan.id
    listed = client.get("/admin/users").get_data(as_text=True)
    assert "jan" in listed and "Jan Janssens" in listed


def test_an_account_the_desk_refuses_comes_back_with_the_reason(client):
    token = manager(client)
    form = {"csrf_token": token, "username": "tom", "role": "technician", "password": "long-enough"}
    answer = client.post("/admin/users/new", data=form)
    assert answer.status_code == 400
    assert "a technician account needs a technician" in answer.get_data(as_text=True)
    short = client.post("/admin/users/new", data=form | {"role": "manager", "password": "short"})
    assert "the password needs at least 8 characters" in short.get_data(as_text=True)
    assert User.query.filter_by(username="tom").first() is None
