"""Pooled connections are pinged only after sitting idle, and a dead idle one is replaced unnoticed."""

import time

from sqlalchemy import event, text

from app.extensions import db
from tests.helpers import build_app


def pings_of(engine, monkeypatch) -> list[float]:
    """Record each liveness ping the pool sends."""
    seen: list[float] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection) -> bool:
        seen.append(time.monotonic())
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def kill_pooled_connection(engine) -> None:
    """Close the driver's connection of an idle pooled connection, as a restarted server does."""
    with engine.connect() as connection:
        connection.scalar(text("SELECT 1"))
        driver_connection = connection.connection.dbapi_connection
    driver_connection.close()


def test_a_connection_in_steady_use_is_not_pinged(monkeypatch, migrated, tmp_path, redis):
    app = build_app(monkeypatch, migrated, tmp_path, DATABASE_PING_IDLE_SECONDS=60)
    with app.app_context():
        pings = pings_of(db.engine, monkeypatch)
        for _ in range(5):
            with db.engine.connect() as connection:
                assert connection.scalar(text("SELECT 1")) == 1
        assert pings == []
        db.engine.dispose()


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(monkeypatch, migrated, tmp_path, redis):
    app = build_app(monkeypatch, migrated, tmp_path, DATABASE_PING_IDLE_SECONDS=0.05)
    with app.app_context():
        engine = db.engine
        pings = pings_of(engine, monkeypatch)
        connects: list[object] = []
        event.listen(engine, "connect", lambda dbapi_connection, _record: connects.append(dbapi_connection))
        kill_pooled_connection(engine)
        time.sleep(0.1)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
        assert len(pings) == 1 and len(connects) == 2
        engine.dispose()


def test_without_the_idle_ping_a_dead_connection_fails_its_statement(monkeypatch, migrated, tmp_path, redis):
    """The counterpart of the test above: the ping is what saves the statement."""
    app = build_app(monkeypatch, migrated, tmp_path, DATABASE_PING_IDLE_SECONDS=60)
    with app.app_context():
        engine = db.engine
        kill_pooled_connection(engine)
        failed = False
        try:
            with engine.connect() as connection:
                connection.scalar(text("SELECT 1"))
        except Exception:
            failed = True
        assert failed
        engine.dispose()
