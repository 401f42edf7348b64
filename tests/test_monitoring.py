"""/healthz and /metrics against the real database and Redis, read with Prometheus's own parser."""

from datetime import datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue, Worker
from rq.cron import CronScheduler

from app.clock import day_start
from app.extensions import db
from app.models import Call, Callback, CallOutcome, Role
from app.queueing import redis_connection
from app.tickets import ticket_store
from app.web import monitoring
from app.web.accounts import new_token
from callbacks import rescue
from callbacks.queue import queue_callback
from tests.helpers import add_technician, add_user, build_app
from tests.test_unavailable import database_down


def scrape(client, token: str) -> dict[tuple[str, tuple], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
def token(app) -> str:
    return new_token(add_user("boss"))


def callback(phone: str, priority: int, now: datetime, minutes_ago: int = 0, due_in: int = 0) -> Callback:
    ticket = ticket_store().create(title="Printer", caller_phone=phone, priority=priority)
    queued, _ = queue_callback(ticket, phone, priority, "en")
    queued.queued_at = now - timedelta(minutes=minutes_ago)
    queued.due_at = now + timedelta(minutes=due_in)
    db.session.commit()
    return queued


def test_metrics_show_the_queue_the_technicians_and_today(client, token, monkeypatch):
    # The scrape's clock stands at 10:00 on the desk's day, so "today" holds at any hour the test runs.
    now = day_start() + timedelta(hours=10)
    monkeypatch.setattr(monitoring, "utcnow", lambda: now)
    callback("+32470000001", 2, now, minutes_ago=30)
    callback("+32470000002", 2, now, minutes_ago=5)
    callback("+32470000003", 4, now, minutes_ago=90, due_in=10)  # a retry, not due yet
    callback("+32470000009", 4, now, minutes_ago=11 * 60)  # joined yesterday, still waiting
    done = callback("+32470000004", 3, now)
    done.status, done.ended_at = "completed", now
    add_technician("Jan", "+32470000011", state="available")
    add_technician("Marie", "+32470000012", state="on_call")
    add_technician("Tom", "+32470000013", state="on_call")
    db.session.add_all(
        [
            Call(sid="CA1", language="en", ended_at=now),  # hung up in the menu
            Call(sid="CA2", language="en", ended_at=now, outcome=CallOutcome.QUEUED),
            Call(sid="CA3", language="en", ended_at=now - timedelta(hours=11)),  # yesterday
        ]
    )
    db.session.commit()

    samples = scrape(client, token)
    assert samples[("callback_desk_callbacks_waiting", (("priority", "2"),))] == 2
    assert samples[("callback_desk_callbacks_waiting", (("priority", "4"),))] == 2
    assert samples[("callback_desk_callbacks_due", (("priority", "4"),))] == 1
    assert samples[("callback_desk_callbacks_due", (("priority", "1"),))] == 0
    assert samples[("callback_desk_oldest_due_callback_seconds", (("priority", "2"),))] == 30 * 60
    assert samples[("callback_desk_oldest_due_callback_seconds", (("priority", "4"),))] == 11 * 3600
    assert samples[("callback_desk_oldest_due_callback_seconds", (("priority", "1"),))] == 0
    assert samples[("callback_desk_technicians", (("state", "on_call"),))] == 2
    assert samples[("callback_desk_technicians", (("state", "away"),))] == 0
    assert samples[("callback_desk_callbacks_ended_today", (("status", "completed"),))] == 1
    assert samples[("callback_desk_callbacks_queued_today", ())] == 4  # not the one from yesterday
    assert (samples[("callback_desk_calls_ended_today", ())], samples[("callback_desk_calls_abandoned_today", ())]) == (
        2,
        1,
    )
    assert samples[("callback_desk_database_up", ())] == 1 and samples[("callback_desk_redis_up", ())] == 1


def test_metrics_show_the_rq_queues_workers_cron_and_the_rescue_spool(app, client, token):
    connection = redis_connection()
    Queue("dispatch", connection=connection).enqueue("callbacks.jobs.reconcile")
    worker = Worker([Queue("notify", connection=connection)], connection=connection)
    worker.register_birth()
    cron = CronScheduler(connection)
    cron.register_birth()
    rescue.spool({"call_sid": "CA9", "phone": "+32470000009", "language": "en"})
    try:
        samples = scrape(client, token)
    finally:
        worker.register_death()
        cron.register_death()
    assert samples[("callback_desk_rq_jobs", (("queue", "dispatch"), ("state", "queued")))] == 1
    assert samples[("callback_desk_rq_workers", (("queue", "notify"),))] == 1
    assert samples[("callback_desk_rq_workers", (("queue", "dispatch"),))] == 0
    assert samples[("callback_desk_rq_cron_schedulers", ())] == 1
    assert samples[("callback_desk_rescued_promises_on_disk", ())] == 1


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic Ym9zczpwYXNz"])
def test_metrics_need_a_token(client, header):
    answer = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_technician_s_token_is_not_enough(client):
    jan = add_technician("Jan", "+32470000011")
    token = new_token(add_user("jan", role=Role.TECHNICIAN, technician=jan))
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_with_the_database_down_the_metrics_token_still_scrapes_and_says_so(monkeypatch, migrated, tmp_path, redis):
    app = build_app(monkeypatch, migrated, tmp_path, METRICS_TOKEN="m" * 40)
    with app.app_context():
        client = app.test_client()
        with database_down():
            samples = scrape(client, "m" * 40)
            health = client.get("/healthz")
            strict = client.get("/healthz?strict=1")
            with_api_token = client.get("/metrics", headers={"Authorization": "Bearer a-manager-token"})
        db.session.remove()
        db.engine.dispose()
    assert samples[("callback_desk_database_up", ())] == 0 and samples[("callback_desk_redis_up", ())] == 1
    assert ("callback_desk_callbacks_waiting", (("priority", "1"),)) not in samples
    # Web processes still answer callers (the safe path): a load balancer must keep them.
    assert health.status_code == 200 and health.json["status"] == "degraded"
    assert health.json["database"].startswith("down") and health.json["redis"] == "ok"
    assert strict.status_code == 503
    assert with_api_token.status_code == 503  # the token cannot be looked up: unavailable, not unauthorised


def test_healthz_with_redis_down(monkeypatch, migrated, tmp_path):
    app = build_app(monkeypatch, migrated, tmp_path, REDIS_URL="redis://127.0.0.1:1/0", METRICS_TOKEN="m" * 40)
    with app.app_context():
        client = app.test_client()
        health = client.get("/healthz")
        samples = scrape(client, "m" * 40)
        db.session.remove()
        db.engine.dispose()
    assert health.status_code == 200 and health.json["database"] == "ok"
    assert health.json["redis"] == "down"  # public: no hosts or ports (they are in the log)
    assert samples[("callback_desk_redis_up", ())] == 0 and samples[("callback_desk_database_up", ())] == 1


def test_a_healthy_desk(client):
    answer = client.get("/healthz?strict=1")
    assert answer.status_code == 200 and answer.json == {"status": "ok", "database": "ok", "redis": "ok"}
