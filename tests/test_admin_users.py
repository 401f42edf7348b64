"""The managers' user pages: the accounts with their role and technician, adding one, disabling and
enabling one, and setting a new password (sessions end, the API token is revoked on disabling)."""

import logging

from app.extensions import db
from app.models import User
from app.web.accounts import authenticate, new_token
from tests.helpers import PASSWORD, add_technician, add_user, csrf_token_of, log_in


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


# Disabling, enabling and a new password from the account's page. Each browser's request runs in
# an app context of its own: flask-login and CSRF keep the signed-in user in ``g``.


def request(app, client, method: str, path: str, **options):
    with app.app_context():
        return client.open(path, method=method, **options)


def browser(app, username: str, password: str = PASSWORD):
    """A signed-in browser of ``username`` and the CSRF token its pages carry."""
    session = app.test_client()
    assert request(app, session, "GET", "/login").status_code == 200
    with app.app_context():
        assert log_in(session, username, password).status_code == 302
    page = request(app, session, "GET", "/login").get_data(as_text=True)
    return session, csrf_token_of(page)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signed_in(app, session, path: str = "/console") -> bool:
    return request(app, session, "GET", path).status_code == 200


def can_log_in(app, username: str, password: str) -> bool:
    """Whether a new browser's login with this password succeeds."""
    with app.app_context():
        return log_in(app.test_client(), username, password).status_code == 302


def account_of(app, username: str) -> User:
    with app.app_context():
        user = User.query.filter_by(username=username).one()
        db.session.expunge(user)
        return user


def test_a_disabled_user_loses_their_session_and_api_token_at_once_and_enabling_lets_them_log_in(app, caplog):
    caplog.set_level(logging.INFO)
    jan = add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    token = new_token(jan)
    add_user("boss")
    boss, csrf = browser(app, "boss")
    jans_browser, _ = browser(app, "jan")
    assert signed_in(app, jans_browser)
    assert request(app, app.test_client(), "GET", "/api/queue", headers=bearer(token)).status_code == 200

    page = request(app, boss, "GET", f"/admin/users/{jan.id}").get_data(as_text=True)
    assert 'name="confirm"' in page and f"/admin/users/{jan.id}/active" in page

    answer = request(
        app, boss, "POST", f"/admin/users/{jan.id}/active", data={"csrf_token": csrf, "active": "0", "confirm": "1"}
    )
    assert answer.status_code == 302
    assert "jan is disabled" in request(app, boss, "GET", answer.location).get_data(as_text=True)
    assert "user jan disabled by boss: sessions and API token revoked" in caplog.text
    assert not signed_in(app, jans_browser)
    assert request(app, app.test_client(), "GET", "/api/queue", headers=bearer(token)).status_code == 401
    assert not can_log_in(app, "jan", PASSWORD)
    listed = request(app, boss, "GET", "/admin/users").get_data(as_text=True)
    assert 'class="inactive"' in listed

    answer = request(app, boss, "POST", f"/admin/users/{jan.id}/active", data={"csrf_token": csrf, "active": "1"})
    assert answer.status_code == 302
    assert "jan can log in again" in request(app, boss, "GET", answer.location).get_data(as_text=True)
    assert account_of(app, "jan").active
    assert can_log_in(app, "jan", PASSWORD)
    assert request(app, app.test_client(), "GET", "/api/queue", headers=bearer(token)).status_code == 401


def test_disabling_needs_the_confirmation_box(app):
    jan = add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    add_user("boss")
    boss, csrf = browser(app, "boss")
    jans_browser, _ = browser(app, "jan")
    answer = request(app, boss, "POST", f"/admin/users/{jan.id}/active", data={"csrf_token": csrf, "active": "0"})
    assert answer.status_code == 400
    assert "Tick the box to confirm disabling jan" in answer.get_data(as_text=True)
    assert account_of(app, "jan").active
    assert signed_in(app, jans_browser)


def test_a_manager_cannot_disable_their_own_account(app):
    add_user("boss")
    boss, csrf = browser(app, "boss")
    me = account_of(app, "boss")
    page = request(app, boss, "GET", f"/admin/users/{me.id}").get_data(as_text=True)
    assert 'name="confirm"' not in page
    answer = request(
        app, boss, "POST", f"/admin/users/{me.id}/active", data={"csrf_token": csrf, "active": "0", "confirm": "1"}
    )
    assert answer.status_code == 400
    assert "You cannot disable your own account." in answer.get_data(as_text=True)
    assert account_of(app, "boss").active
    assert signed_in(app, boss, "/board")


def test_a_new_password_ends_the_users_old_sessions(app):
    jan = add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    add_user("boss")
    boss, csrf = browser(app, "boss")
    jans_browser, _ = browser(app, "jan")
    form = {"csrf_token": csrf, "password": "a-new-long-password", "repeat": "a-new-long-password"}
    answer = request(app, boss, "POST", f"/admin/users/{jan.id}/password", data=form)
    assert answer.status_code == 302
    assert "jan has a new password" in request(app, boss, "GET", answer.location).get_data(as_text=True)
    assert not signed_in(app, jans_browser)
    assert not can_log_in(app, "jan", PASSWORD)
    assert can_log_in(app, "jan", "a-new-long-password")
    assert account_of(app, "jan").active


def test_a_password_the_policy_refuses_or_mistyped_changes_nothing(app):
    jan = add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    add_user("boss")
    boss, csrf = browser(app, "boss")
    jans_browser, _ = browser(app, "jan")
    path = f"/admin/users/{jan.id}/password"
    short = request(app, boss, "POST", path, data={"csrf_token": csrf, "password": "short", "repeat": "short"})
    assert short.status_code == 400
    assert "the password needs at least 8 characters" in short.get_data(as_text=True)
    differ = {"csrf_token": csrf, "password": "a-new-long-password", "repeat": "a-new-long-passwort"}
    mistyped = request(app, boss, "POST", path, data=differ)
    assert mistyped.status_code == 400
    assert "The two passwords differ." in mistyped.get_data(as_text=True)
    assert can_log_in(app, "jan", PASSWORD)
    assert signed_in(app, jans_browser)


def test_a_manager_changing_their_own_password_stays_signed_in_and_their_other_sessions_end(app):
    add_user("boss")
    boss, csrf = browser(app, "boss")
    elsewhere, _ = browser(app, "boss")
    me = account_of(app, "boss")
    form = {"csrf_token": csrf, "password": "a-new-long-password", "repeat": "a-new-long-password"}
    assert request(app, boss, "POST", f"/admin/users/{me.id}/password", data=form).status_code == 302
    assert signed_in(app, boss, "/board")
    assert not signed_in(app, elsewhere, "/board")


def test_without_the_csrf_token_nothing_changes(app):
    jan = add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    add_user("boss")
    boss, _ = browser(app, "boss")
    jans_browser, _ = browser(app, "jan")
    disable = request(app, boss, "POST", f"/admin/users/{jan.id}/active", data={"active": "0", "confirm": "1"})
    password = {"password": "a-new-long-password", "repeat": "a-new-long-password"}
    new_password = request(app, boss, "POST", f"/admin/users/{jan.id}/password", data=password)
    forged = request(
        app, boss, "POST", f"/admin/users/{jan.id}/active", data={"csrf_token": "forged", "active": "0", "confirm": "1"}
    )
    assert {disable.status_code, new_password.status_code, forged.status_code} == {400}
    assert account_of(app, "jan").active
    assert can_log_in(app, "jan", PASSWORD)
    assert signed_in(app, jans_browser)


def test_a_technician_cannot_reach_the_account_routes(app):
    jan = add_user("jan", "technician", add_technician("Jan Janssens", "+32470000001"))
    boss = add_user("boss")
    boss_browser, _ = browser(app, "boss")
    jans_browser, csrf = browser(app, "jan")
    assert request(app, jans_browser, "GET", f"/admin/users/{boss.id}").status_code == 403
    disable = request(
        app,
        jans_browser,
        "POST",
        f"/admin/users/{boss.id}/active",
        data={"csrf_token": csrf, "active": "0", "confirm": "1"},
    )
    form = {"csrf_token": csrf, "password": "a-new-long-password", "repeat": "a-new-long-password"}
    password = request(app, jans_browser, "POST", f"/admin/users/{jan.id}/password", data=form)
    assert disable.status_code == 403 and password.status_code == 403
    assert account_of(app, "boss").active
    assert can_log_in(app, "jan", PASSWORD)
    assert signed_in(app, boss_browser, "/board")
    anonymous = request(app, app.test_client(), "GET", f"/admin/users/{boss.id}")
    assert anonymous.status_code == 401


def test_an_unknown_account_is_not_found(app):
    add_user("boss")
    boss, csrf = browser(app, "boss")
    assert request(app, boss, "GET", "/admin/users/999999").status_code == 404
    answer = request(app, boss, "POST", "/admin/users/999999/active", data={"csrf_token": csrf, "active": "1"})
    assert answer.status_code == 404
