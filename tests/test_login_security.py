"""Accounts safe on the internet (DESIGN §11): login limits, no name leaks, revocation, no demo passwords."""

import pytest

from app import preflight
from app.extensions import db
from app.secret_settings import DEMO_PASSWORD
from app.web import accounts
from app.web.accounts import new_token
from tests.helpers import PASSWORD, add_user, build_app, empty_tables, log_in

WRONG = "not-the-password"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def logs_in(app, username: str, password: str = PASSWORD) -> int:
    """A new browser's login, in an app context of its own (flask-login and CSRF keep state in ``g``)."""
    with app.app_context():
        return log_in(app.test_client(), username, password).status_code


def status_of(app, client, path: str, **options) -> int:
    with app.app_context():
        return client.get(path, **options).status_code


def test_twenty_wrong_passwords_lock_that_user_while_webhooks_are_all_answered(app, client, provider, redis):
    add_user("boss")
    add_user("other")
    for attempt in range(20):
        assert log_in(client, "boss", WRONG).status_code == 401
        answer = provider.post("/voice/incoming", call_sid=f"CA{attempt:032d}")
        assert answer.status_code == 200 and answer.content_type.startswith("text/xml")
    locked = log_in(client, "Boss ", PASSWORD)  # the right password, in another spelling of the name
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in locked.get_data(as_text=True)
    assert logs_in(app, "other") == 302  # other users are not locked out
    assert list(redis.scan_iter("*callback-desk-limits/user:boss*"))  # in Redis: shared by every process


def test_successful_logins_do_not_count(app):
    add_user("boss")
    for _ in range(25):
        assert logs_in(app, "boss") == 302


def test_one_address_trying_many_names_is_paused(app, client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "5 per minute"
    for number in range(5):
        assert log_in(client, f"guess{number}", WRONG).status_code == 401
    assert log_in(client, "guess9", WRONG).status_code == 429
    other_address = app.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    with app.app_context():
        assert log_in(other_address, "guess9", WRONG).status_code == 401


def test_an_unknown_name_costs_a_password_check_like_a_known_one(app, monkeypatch):
    add_user("boss")
    checked = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *args: checked.append(args) or real(*args))
    assert accounts.authenticate("nobody", WRONG) is None
    assert accounts.authenticate("boss", WRONG) is None
    assert len(checked) == 2
    assert checked[0][0].split("$")[0] == checked[1][0].split("$")[0]  # the same hashing method and cost


def test_a_new_password_ends_the_users_sessions(app, runner):
    add_user("boss")
    session = app.test_client()
    with app.app_context():
        log_in(session, "boss")
    assert status_of(app, session, "/board") == 200
    result = runner.invoke(args=["users", "passwd", "boss", "--password", "a-new-long-password"])
    assert result.exit_code == 0, result.output
    assert status_of(app, session, "/board") == 401
    assert logs_in(app, "boss") == 401
    assert logs_in(app, "boss", "a-new-long-password") == 302
    assert runner.invoke(args=["users", "passwd", "boss", "--password", "short"]).exit_code != 0


def test_a_disabled_user_loses_sessions_logins_and_api_token(app, runner):
    user = add_user("boss")
    token = new_token(user)
    session = app.test_client()
    with app.app_context():
        log_in(session, "boss")
    assert status_of(app, app.test_client(), "/api/queue", headers=bearer(token)) == 200
    assert runner.invoke(args=["users", "disable", "boss"]).exit_code == 0
    assert status_of(app, session, "/board") == 401
    assert status_of(app, app.test_client(), "/api/queue", headers=bearer(token)) == 401
    assert logs_in(app, "boss") == 401
    assert runner.invoke(args=["users", "enable", "boss"]).exit_code == 0
    assert logs_in(app, "boss") == 302
    assert status_of(app, app.test_client(), "/api/queue", headers=bearer(token)) == 401  # the token stays revoked
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code != 0


def test_check_fails_on_demo_passwords_outside_loopback(app):
    add_user("manager", password=DEMO_PASSWORD)
    add_user("boss")
    failed = [finding for finding in preflight.database() if finding.topic == "accounts"]
    assert failed[0].level == preflight.FAIL and failed[0].text.startswith("manager still use")
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    assert [f.level for f in preflight.database() if f.topic == "accounts"] == [preflight.WARN]
    accounts.disable(accounts.find_user("manager"))
    assert [f.level for f in preflight.database() if f.topic == "accounts"] == [preflight.OK]


@pytest.mark.parametrize("base", ["https://callbacks.example.be", "http://desk.test"])
def test_seed_demo_refuses_outside_loopback(app, runner, base):
    app.config["PUBLIC_BASE_URL"] = base
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "is not loopback" in result.output
    assert accounts.find_user("manager") is None


def test_behind_the_proxy_the_limit_counts_the_clients_address(monkeypatch, migrated, tmp_path, redis):
    app = build_app(monkeypatch, migrated, tmp_path, PROXY_COUNT="1", LOGIN_LIMIT_PER_ADDRESS="3 per minute")
    empty_tables(app)

    def attempt(address: str, username: str) -> int:
        with app.app_context():
            client = app.test_client()
            client.environ_base["HTTP_X_FORWARDED_FOR"] = address
            status = log_in(client, username, WRONG).status_code
            db.session.remove()
            return status

    assert [attempt("198.51.100.1", f"guess{number}") for number in range(3)] == [401, 401, 401]
    assert attempt("198.51.100.2", "guess9") == 401  # another client behind the same proxy
    assert attempt("198.51.100.1", "guess9") == 429
