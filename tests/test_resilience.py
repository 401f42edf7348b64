"""A signed webhook never gets a 5xx: when the database (or Redis too) is down the
caller hears an apology, and the promise made to them is kept once things are back."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, Ticket
from callbacks import jobs, rescue
from callbacks.reconciler import reconcile
from tests.helpers import SignedClient, build_app, run_jobs

DEAD_DATABASES = ["postgresql+psycopg://127.0.0.1:1/gone", "sqlite:////nonexistent/directory/desk.db"]
SID = "CA" + "d" * 32


def says(response) -> str:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return " ".join(element.text or "" for element in ET.fromstring(response.data).iter("Say"))


@pytest.fixture(params=DEAD_DATABASES, ids=["postgresql-down", "sqlite-unreadable"])
def broken_desk(request, monkeypatch, tmp_path, redis):
    """The app with a database it cannot reach."""
    app = build_app(monkeypatch, request.param, tmp_path / "broken")
    with app.app_context():
        yield SignedClient(app)


def test_with_the_database_down_a_caller_is_promised_a_callback(broken_desk, app, redis):
    text = says(broken_desk.post("/voice/incoming", SID, "+32470123456"))
    assert "something went wrong on our side" in text
    assert "We have noted your number, 0 4 7 0, 1 2, 3 4, 5 6" in text
    # The promise is a job in Redis; once the database is back it becomes a callback.
    run_jobs(app)
    callback = db.session.scalars(select(Callback)).one()
    assert callback.phone == "+32470123456" and callback.status == "waiting"
    assert callback.ticket.origin_call_sid == SID


@pytest.mark.parametrize("path", ["/voice/main-menu?try=0", "/voice/impact?try=0", "/voice/confirm-number?try=0"])
def test_every_step_of_the_call_has_the_safe_path(broken_desk, path):
    assert "something went wrong" in says(broken_desk.post(path, SID, Digits="1"))


def test_a_withheld_caller_leaves_a_voicemail_that_becomes_a_ticket(broken_desk, app):
    response = broken_desk.post("/voice/incoming", SID, "anonymous")
    assert "leave your name, your company and your phone number" in says(response)
    assert ET.fromstring(response.data).find("Record") is not None
    broken_desk.post("/voice/voicemail", SID, "anonymous", RecordingUrl="https://rec.example/RE9")
    run_jobs(app)
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.recording_url == "https://rec.example/RE9"
    assert db.session.scalars(select(Callback)).first() is None


def test_with_redis_down_too_the_promise_is_spooled_and_drained(monkeypatch, tmp_path, app):
    instance = Path(app.instance_path)
    broken = build_app(
        monkeypatch, "postgresql+psycopg://127.0.0.1:1/gone", instance, REDIS_URL="redis://127.0.0.1:1/0"
    )
    with broken.app_context():
        assert "We have noted your number" in says(SignedClient(broken).post("/voice/incoming", SID, "+32475111222"))
    spooled = [json.loads(line) for line in (instance / "rescued-calls.jsonl").read_text().splitlines()]
    assert spooled[0]["phone"] == "+32475111222"
    reconcile()
    assert db.session.scalars(select(Callback)).one().phone == "+32475111222"
    assert not (instance / "rescued-calls.jsonl").exists()
    reconcile()  # draining twice changes nothing
    assert len(db.session.scalars(select(Callback)).all()) == 1


def test_a_rescued_call_that_already_had_a_ticket_keeps_it(provider, app):
    provider.post("/voice/incoming", SID)
    provider.post("/voice/main-menu?try=0", SID, Digits="2")
    provider.post("/voice/recorded", SID)
    provider.post("/voice/urgency?try=0", SID, Digits="2")
    provider.post("/voice/impact?try=0", SID, Digits="2")
    ticket = db.session.scalars(select(Ticket)).one()
    says(provider.post("/voice/fallback", SID, ErrorCode="11200", ErrorUrl="http://desk.test/voice/confirm-number"))
    run_jobs(app)
    callback = db.session.scalars(select(Callback)).one()
    assert callback.ticket_id == ticket.id and callback.priority == 2


def test_the_fallback_url_answers_with_the_safe_path(provider):
    text = says(provider.post("/voice/fallback", SID, ErrorCode="11200", ErrorUrl="http://desk.test/voice/incoming"))
    assert "something went wrong" in text


def test_a_bug_in_a_step_still_gets_twiml(provider, monkeypatch):
    def broken_store():
        raise RuntimeError("a bug")

    monkeypatch.setattr("ivr.calls.ticket_store", broken_store)
    provider.post("/voice/incoming", SID)
    assert "We have noted your number" in says(provider.post("/voice/impact?try=0", SID, Digits="3"))


def test_a_rescue_job_that_finds_the_database_still_down_moves_the_promise_to_disk(monkeypatch, app):
    instance = Path(app.instance_path)
    broken = build_app(monkeypatch, "postgresql+psycopg://127.0.0.1:1/gone", instance)
    record = {"call_sid": SID, "phone": "+32475111222", "language": "en", "recording_url": None}
    with broken.app_context():
        jobs.take_rescued_call(record)  # no exception: RQ's retry (and its scheduler) is not needed
    assert json.loads((instance / "rescued-calls.jsonl").read_text())["phone"] == "+32475111222"
    reconcile()
    assert db.session.scalars(select(Callback)).one().phone == "+32475111222"


def test_the_promise_is_spooled_as_well_as_queued_and_kept_once(broken_desk, app, redis):
    """Redis may restart empty before the database is back: the spool keeps the promise then."""
    instance = Path(broken_desk.app.instance_path)
    assert "We have noted your number" in says(broken_desk.post("/voice/incoming", SID, "+32470123456"))
    assert json.loads((instance / "rescued-calls.jsonl").read_text())["call_sid"] == SID
    redis.flushdb()  # the job is gone with Redis
    # A reconciler sharing the instance folder (the same host) drains the spool.
    app.config["INSTANCE_PATH"] = str(instance)
    app.instance_path = str(instance)
    reconcile()
    callback = db.session.scalars(select(Callback)).one()
    assert callback.phone == "+32470123456" and callback.ticket.origin_call_sid == SID


def test_a_promise_kept_already_is_not_kept_again_by_the_spool(broken_desk, app):
    instance = Path(broken_desk.app.instance_path)
    broken_desk.post("/voice/incoming", SID, "+32470123456")
    run_jobs(app)  # the job kept it
    callback = db.session.scalars(select(Callback)).one()
    callback.status = "completed"  # and the technician has called back already
    db.session.commit()
    app.instance_path = str(instance)
    reconcile()  # the spooled copy of the same promise
    assert db.session.scalars(select(Callback)).one().status == "completed"
    assert len(db.session.scalars(select(Ticket)).all()) == 1


def test_a_drain_that_died_half_way_is_finished_by_the_next(app):
    instance = Path(app.instance_path)
    record = {"call_sid": SID, "phone": "+32475111222", "language": "nl", "recording_url": None}
    (instance / "rescued-calls.jsonl.0f00.draining").write_text(json.dumps(record) + "\nnot json\n")
    reconcile()
    assert db.session.scalars(select(Callback)).one().language == "nl"
    assert list(instance.glob("rescued-calls*")) == []


def test_a_call_whose_promise_was_kept_by_the_safe_path_gets_no_second_callback(provider, app, monkeypatch):
    """One copy of a webhook took the safe path, the other went on; the callback was made meanwhile."""
    provider.post("/voice/incoming", SID)
    provider.post("/voice/main-menu?try=0", SID, Digits="2")
    provider.post("/voice/recorded", SID)
    says(provider.post("/voice/fallback", SID, ErrorCode="11200", ErrorUrl="http://desk.test/voice/urgency"))
    run_jobs(app)  # the rescued promise: the call's ticket and a P3 callback
    callback = db.session.scalars(select(Callback)).one()
    callback.status = "completed"  # the technician has called back already
    db.session.commit()
    provider.post("/voice/urgency?try=0", SID, Digits="2")
    provider.post("/voice/impact?try=0", SID, Digits="2")
    text = says(provider.post("/voice/confirm-number?try=0", SID, Digits="1"))
    assert text.strip() == "Thank you for calling. Goodbye."
    assert db.session.scalars(select(Callback)).one().id == callback.id  # kept, not queued again


def test_a_web_host_takes_its_own_spooled_promises_once_a_webhook_succeeds(provider, app):
    """Not only the cron host: the host that spooled a promise takes it when the database answers."""
    rescue.spool({"call_sid": SID, "phone": "+32470123456", "language": "nl"})
    assert rescue.spooled_here()
    response = provider.post("/voice/incoming", "CA" + "4" * 32, "+32470999999")
    assert response.status_code == 200
    response.close()  # the server closes the response once sent: the drain runs then
    assert not rescue.spooled_here() and rescue.pending_on_disk() == 0
    callback = db.session.scalars(select(Callback).where(Callback.phone == "+32470123456")).one()
    assert callback.ticket.origin_call_sid == SID and callback.language == "nl"
