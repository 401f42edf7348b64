"""Callback Desk: the phone line of an IT service desk."""

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from app import logs, secret_settings
from app.config import from_environment
from app.extensions import db, migrate


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the web app (also used by workers and the CLI for an app context)."""
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(from_environment())
    app.config.update(overrides or {})
    secret_settings.settle(app.config)
    app.instance_path = app.config["INSTANCE_PATH"]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _tune_engine(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    with app.app_context():
        _configure_sqlite()

    import ivr
    from app import cli, web

    ivr.register(app)
    web.register(app)
    cli.register(app)
    logs.configure()
    return app


def _tune_engine(app: Flask) -> None:
    """Fail fast when the database is unreachable, so a caller is not left in silence."""
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("pool_pre_ping", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options.setdefault("connect_args", {"connect_timeout": 3})
    else:
        options.setdefault("connect_args", {"timeout": 15})


def _configure_sqlite() -> None:
    """WAL lets the web process read while a worker writes; busy_timeout waits for the lock."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
