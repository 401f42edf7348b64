"""The desk refuses to start outside loopback without secrets of its own (DESIGN §11)."""

import json
import stat

import pytest
from flask.sessions import SecureCookieSessionInterface

from app import create_app, secret_settings
from app.extensions import db
from tests.helpers import AUTH_TOKEN, SECRET_KEY, add_user, build_app, empty_tables, log_in

PUBLIC = "https://callbacks.example.be"
OLD_DEFAULTS = {"SECRET_KEY": "dev-only-secret-change-me", "TWILIO_AUTH_TOKEN": "emulator-auth-token"}


@pytest.mark.parametrize("name", secret_settings.SECRET_NAMES)
@pytest.mark.parametrize(
    ("value", "why"),
    [("", "is not set"), ("published", "is a published default"), ("short-but-not-empty", "is shorter than 32")],
)
def test_a_public_desk_does_not_start_with_a_weak_secret(monkeypatch, migrated, tmp_path, name, value, why):
    if value == "published":
        value = OLD_DEFAULTS[name]
    with pytest.raises(secret_settings.InsecureStart) as refused:
        build_app(monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL=PUBLIC, **{name: value})
    assert str(refused.value).startswith(f"{name} {why}")
    assert not (tmp_path / secret_settings.DEV_SECRETS_FILE).exists()


def test_a_public_desk_starts_with_strong_secrets(monkeypatch, migrated, tmp_path):
    app = build_app(monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL=PUBLIC)
    assert app.config["SECRET_KEY"] == SECRET_KEY and app.config["TWILIO_AUTH_TOKEN"] == AUTH_TOKEN


def test_the_command_line_refuses_too(monkeypatch, migrated, tmp_path):
    """`flask db upgrade` on a deployment builds the same app: no way round the refusal."""
    import subprocess
    import sys

    from tests.helpers import settings

    env = {**settings(migrated, tmp_path, PUBLIC_BASE_URL=PUBLIC), "SECRET_KEY": "", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "InsecureStart: SECRET_KEY is not set" in result.stderr


def test_loopback_generates_development_secrets_once_and_shares_them(monkeypatch, migrated, tmp_path):
    for name in secret_settings.SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    first = build_app(monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL="http://127.0.0.1:5000", SECRET_KEY="")
    stored = tmp_path / secret_settings.DEV_SECRETS_FILE
    saved = json.loads(stored.read_text())
    assert first.config["SECRET_KEY"] == saved["SECRET_KEY"] and len(saved["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    second = build_app(monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL="http://localhost:5000", SECRET_KEY="")
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert secret_settings.development_secrets(tmp_path) == saved


def test_a_session_forged_with_the_old_default_key_is_refused(monkeypatch, migrated, tmp_path, redis):
    app = build_app(monkeypatch, migrated, tmp_path, PUBLIC_BASE_URL="http://127.0.0.1:5000", SECRET_KEY="")
    empty_tables(app)
    with app.app_context():
        user_id = add_user("boss").id
        db.session.remove()
    # Requests outside the test's app context: flask-login keeps the user in ``g`` for a context.
    genuine = app.test_client()
    log_in(genuine, "boss")
    assert genuine.get("/board").status_code == 200
    assert app.config["SECRET_KEY"] != OLD_DEFAULTS["SECRET_KEY"]
    payload = {"_user_id": f"{user_id}:0", "_fresh": True}
    for key, status in ((OLD_DEFAULTS["SECRET_KEY"], 401), (app.config["SECRET_KEY"], 200)):
        signer = create_app({"SECRET_KEY": key, "INSTANCE_PATH": str(tmp_path)})
        cookie = SecureCookieSessionInterface().get_signing_serializer(signer).dumps(payload)
        client = app.test_client()
        client.set_cookie("session", cookie)
        assert client.get("/board").status_code == status  # the same cookie with the real key gets in
