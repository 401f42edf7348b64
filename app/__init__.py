"""Callback Desk: the phone line of an IT service desk."""

import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

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
        _ping_idle_connections(db.engine, app.config["DATABASE_PING_IDLE_SECONDS"])

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
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        idle = app.config["DATABASE_KEEPALIVE_SECONDS"]
        options.setdefault(
            "connect_args",
            {
                "connect_timeout": 3,
                # A server that vanished (host down, network cut) is noticed within about 2 x idle.
                "keepalives": 1,
                "keepalives_idle": idle,
                "keepalives_interval": max(idle // 2, 1),
                "keepalives_count": 2,
            },
        )
    else:
        options.setdefault("connect_args", {"timeout": 15})


def _configure_sqlite() -> None:
    """WAL lets the web process read while a worker writes; busy_timeout waits for the lock.

    On PostgreSQL, every connection gets the statement timeout instead: a statement stuck
    behind a lock or a slow plan is cancelled by the server, well inside a webhook's budget.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        milliseconds = int(current_app.config["DATABASE_STATEMENT_TIMEOUT_MS"])

        @event.listens_for(engine, "connect")
        def _timeouts(dbapi_connection, _record) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {milliseconds}")
            dbapi_connection.commit()

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only if it sat idle: SQLAlchemy's pessimistic
    disconnect handling with a checkout event (https://docs.sqlalchemy.org/en/20/core/pooling.html,
    "Disconnect Handling - Pessimistic"), without ``pool_pre_ping``'s round trip on every checkout.

    A restarted server closed every idle connection: the ping finds out and the pool connects
    afresh (DisconnectionError makes it retry). A connection that failed while in use gets the
    whole pool invalidated by SQLAlchemy, so the connections older than it are replaced too.
    """

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) <= idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"an idle pooled connection is gone: {error}") from error
        if not alive:
            raise DisconnectionError("an idle pooled connection is gone")
