"""The managers' technician pages: add, edit, deactivate; a deactivated technician never goes available."""

import pytest

from app.extensions import db
from app.models import Technician
from callbacks import manage
from tests.helpers import add_technician, add_user, csrf_token_of, log_in


@pytest.fixture
def manager(client):
    add_user("boss")
    log_in(client, "boss")
    client.token = csrf_token_of(client.get("/admin/technicians").get_data(as_text=True))
    return client


def post(client, path, data):
    return client.post(path, data={"csrf_token": client.token, **data})


def test_a_manager_adds_and_edits_a_technician(manager):
    answer = post(
        manager, "/admin/technicians/new", {"name": "Jan Janssens", "phone": "0470 00 00 01", "languages": ["nl", "en"]}
    )
    assert answer.status_code == 302
    jan = db.session.query(Technician).one()
    assert (jan.phone, jan.languages, jan.state, jan.active) == ("+32470000001", "nl,en", "offline", True)
    post(
        manager, f"/admin/technicians/{jan.id}", {"name": "Jan Janssens", "phone": "+32470000009", "languages": ["fr"]}
    )
    db.session.refresh(jan)
    assert (jan.phone, jan.languages) == ("+32470000009", "fr")
    assert "0470 00 00 09" in manager.get("/admin/technicians?q=jan").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phone": "12"}, "&#39;12&#39; is not a valid phone number"),
        ({"phone": "+32470000002"}, "0470 00 00 02 is already the number of Marie Dubois"),
        ({"languages": []}, "a technician speaks at least one of nl, fr, en"),
        ({"name": ""}, "a technician needs a name"),
    ],
)
def test_a_technician_the_desk_cannot_reach_is_refused(manager, data, message):
    add_technician("Marie Dubois", "+32470000002")
    answer = post(manager, "/admin/technicians/new", {"name": "Jan", "phone": "0470000001", "languages": ["nl"]} | data)
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert db.session.query(Technician).count() == 1


def test_a_deactivated_technician_goes_offline_and_cannot_go_available(manager):
    jan = add_technician("Jan Janssens", "+32470000001", state="available")
    post(manager, f"/admin/technicians/{jan.id}/active", {"active": "0"})
    db.session.refresh(jan)
    assert (jan.state, jan.active) == ("offline", False)
    with pytest.raises(manage.Refused, match="Jan Janssens is deactivated; cannot go available"):
        manage.set_technician_state(jan.id, "available")
    post(manager, f"/admin/technicians/{jan.id}/active", {"active": "1"})
    assert manage.set_technician_state(jan.id, "available").state == "available"


def test_a_technician_on_a_call_is_not_deactivated(manager):
    jan = add_technician("Jan Janssens", "+32470000001", state="on_call")
    answer = post(manager, f"/admin/technicians/{jan.id}/active", {"active": "0"})
    assert answer.status_code == 302
    db.session.refresh(jan)
    assert (jan.state, jan.active) == ("on_call", True)
    assert "cannot go offline now" in manager.get("/admin/technicians").get_data(as_text=True)
