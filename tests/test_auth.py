"""Accounts: logging in and out, roles, CSRF, cookies, and the `flask users` commands."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.web.accounts import DEMO_PASSWORD, authenticate, new_token, user_for_token
from app.web.accounts import add_user as create_user
from tests.helpers import PASSWORD, add_technician, add_user, csrf_token_of, log_in


def test_passwords_are_stored_hashed_and_checked(app):
    add_user("ann")
    stored = db.session.scalars(select(User)).one()
    assert PASSWORD not in stored.password_hash and stored.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert authenticate("ann", PASSWORD).username == "ann"
    assert authenticate("ANN ", PASSWORD) is not None  # names are case- and space-insensitive
    assert authenticate("ann", "wrong-password") is None
    assert authenticate("nobody", PASSWORD) is None


@pytest.mark.parametrize(
    ("username", "password", "role", "technician", "complaint"),
    [
        ("bob", "short", "manager", False, "at least 8"),
        ("b b", PASSWORD, "manager", False, "user name"),
        ("bob", PASSWORD, "technician", False, "needs a technician"),
        ("bob", PASSWORD, "manager", True, "has none"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(app, username, password, role, technician, complaint):
    linked = add_technician("Jan", "+32470000001") if technician else None
    with pytest.raises(ValueError, match=complaint):
        create_user(username, password, role, linked)


def test_login_sends_a_manager_to_the_board_and_a_technician_to_the_console(client):
    add_user("boss")
    add_user("jan", "technician", add_technician("Jan", "+32470000001"))
    assert log_in(client, "boss").headers["Location"] == "/board"
    client.post("/logout", data={"csrf_token": csrf_token_of(client.get("/board").get_data(as_text=True))})
    assert log_in(client, "jan").headers["Location"] == "/console"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client):
    add_user("boss")
    answer = log_in(client, "boss", "not-the-password")
    assert answer.status_code == 401 and "Wrong user name or password." in answer.get_data(as_text=True)
    assert client.get("/board").status_code == 401


def test_login_without_the_csrf_token_is_refused(client):
    add_user("boss")
    answer = client.post("/login", data={"username": "boss", "password": PASSWORD})
    assert answer.status_code == 400
    assert client.get("/board").status_code == 401


def test_login_only_redirects_to_pages_of_this_site(client):
    add_user("boss")
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    form = {"username": "boss", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/x"}
    assert client.post("/login", data=form).headers["Location"] == "/board"
    client.post("/logout", data={"csrf_token": token})
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    form |= {"csrf_token": token, "next": "/board/export.csv"}
    assert client.post("/login", data=form).headers["Location"] == "/board/export.csv"


@pytest.mark.parametrize("path", ["/board", "/board/live", "/board/export.csv", "/console", "/console/live"])
def test_pages_answer_401_with_the_login_form_when_logged_out(client, path):
    answer = client.get(path)
    assert answer.status_code == 401
    assert 'action="/login"' in answer.get_data(as_text=True)


def test_an_htmx_poll_after_logout_is_sent_to_the_login_page(client):
    answer = client.get("/board/live", headers={"HX-Request": "true"})
    assert answer.status_code == 401 and answer.headers["HX-Redirect"].startswith("/login")


def test_each_role_gets_403_on_the_other_roles_pages(client):
    add_user("boss")
    add_user("jan", "technician", add_technician("Jan", "+32470000001"))
    log_in(client, "boss")
    assert client.get("/console").status_code == 403
    assert client.get("/board").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token_of(client.get("/board").get_data(as_text=True))})
    log_in(client, "jan")
    assert client.get("/board").status_code == 403
    assert client.post("/board/technicians/1/state", data={"state": "away"}).status_code in (400, 403)


def test_logout_needs_the_csrf_token_and_ends_the_session(client):
    add_user("boss")
    log_in(client, "boss")
    assert client.post("/logout").status_code == 400  # a forged logout link does nothing
    assert client.get("/board").status_code == 200
    token = csrf_token_of(client.get("/board").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert client.get("/board").status_code == 401


def test_session_cookie_is_httponly_and_lax_and_secure_behind_https(monkeypatch, migrated, tmp_path, redis):
    from tests.helpers import build_app, empty_tables

    for base, secure in (("http://desk.test", False), ("https://desk.example", True)):
        app = build_app(monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL=base)
        empty_tables(app)
        with app.app_context():
            add_user("boss")
            client = app.test_client()
            cookie = log_in(client, "boss").headers["Set-Cookie"]
            db.session.remove()
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_api_tokens_are_stored_hashed_and_replaced_by_a_new_one(app):
    user = add_user("robot")
    first = new_token(user)
    assert user.token_hash != first and user_for_token(first).username == "robot"
    second = new_token(user)
    assert user_for_token(first) is None and user_for_token(second).username == "robot"
    assert user_for_token("") is None


def test_users_add_and_token_commands(runner):
    add_technician("Jan Janssens", "+32470000001")
    result = runner.invoke(
        args=["users", "add", "Jan", "--role", "technician", "--technician", "0470 00 00 01"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "user jan (technician), linked to Jan Janssens" in result.output
    result = runner.invoke(args=["users", "add", "boss", "--role", "manager", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    token = runner.invoke(args=["users", "token", "boss"]).output.strip()
    assert user_for_token(token).username == "boss"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (
            ["users", "add", "x", "--role", "technician", "--technician", "+32470009999", "--password", PASSWORD],
            "no technician with phone",
        ),
        (["users", "add", "x", "--role", "manager", "--password", "short"], "at least 8"),
        (["users", "token", "ghost"], "no user 'ghost'"),
    ],
)
def test_users_commands_explain_what_is_wrong(runner, args, complaint):
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and complaint in result.output


def test_seed_demo_adds_a_manager_and_one_login_per_technician(runner, client):
    runner.app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"  # seed-demo is for loopback desks only
    result = runner.invoke(args=["seed-demo"])
    assert "accounts manager, jan, marie, tom" in result.output
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # idempotent, accounts not doubled
    assert len(db.session.scalars(select(User)).all()) == 4
    assert log_in(client, "manager", DEMO_PASSWORD).headers["Location"] == "/board"
    assert db.session.scalars(select(User).where(User.username == "marie")).one().technician.name == "Marie Dubois"


@pytest.mark.parametrize(
    ("accept", "heading"), [("nl-BE,nl;q=0.9", "Aanmelden"), ("fr-BE", "Se connecter"), ("de", "Log in")]
)
def test_the_login_page_speaks_the_browsers_language(client, accept, heading):
    page = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
