"""RETENTION_DAYS: old callers' numbers, IVR calls and recordings go; open work and recent history stay.

Recordings are deleted at the emulator through the REST API, as at the provider.
"""

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app import preflight, retention
from app.clock import utcnow
from app.extensions import db
from app.models import Call, Callback, Ticket, UrgentStatus, UrgentTransfer
from app.tickets import ticket_store
from callbacks.queue import queue_callback

DAYS = 30


@pytest.fixture
def desk_settings():
    return {"RETENTION_DAYS": DAYS}


def days_ago(days: float):
    return utcnow() - timedelta(days=days)


def ticket(phone: str, recording_url: str | None = None, closed_days_ago: float | None = None) -> Ticket:
    made = ticket_store().create(title="Printer", caller_phone=phone, priority=4, recording_url=recording_url)
    if closed_days_ago is not None:
        made.status, made.closed_at = "closed", days_ago(closed_days_ago)
    db.session.commit()
    return made


def call(sid: str, phone: str, ended_days_ago: float | None, **fields) -> Call:
    made = Call(sid=sid, from_raw=phone, from_e164=phone, language="en", **fields)
    made.started_at = days_ago((ended_days_ago or 0) + 0.01)
    made.ended_at = days_ago(ended_days_ago) if ended_days_ago is not None else None
    db.session.add(made)
    db.session.commit()
    return made


def ended_callback(phone: str, status: str, ended_days_ago: float) -> Callback:
    made, _ = queue_callback(ticket(phone), phone, 4, "en")
    made.status, made.ended_at = status, days_ago(ended_days_ago)
    db.session.commit()
    return made


def audio(desk, url: str) -> int:
    return requests.get(url, timeout=5).status_code


def test_old_personal_data_goes_and_open_work_and_recent_history_stay(desk):
    old_recording = desk.emulator.new_recording(5)
    open_recording = desk.emulator.new_recording(5)
    orphan_recording = desk.emulator.new_recording(5)
    recent_recording = desk.emulator.new_recording(5)
    closed_long_ago = ticket("+32470000001", old_recording.url, closed_days_ago=40)
    still_open = ticket("+32470000002", open_recording.url)
    closed_lately = ticket("+32470000003", recent_recording.url, closed_days_ago=3)
    call("CA1", "+32470000001", 41, ticket_id=closed_long_ago.id, recording_url=old_recording.url)
    call("CA2", "+32470000002", 41, ticket_id=still_open.id, recording_url=open_recording.url)
    call("CA3", "+32470000004", 35, recording_url=orphan_recording.url)  # hung up: no ticket
    call("CA4", "+32470000003", 5, ticket_id=closed_lately.id, recording_url=recent_recording.url)
    call("CA5", "+32470000005", None)  # never reported its end, and recent
    old_done = ended_callback("+32470000006", "completed", 40)
    recent_done = ended_callback("+32470000007", "unreachable", 2)
    waiting, _ = queue_callback(ticket("+32470000008"), "+32470000008", 4, "en")
    waiting.queued_at = days_ago(45)  # waiting for 45 days: open work keeps its number
    db.session.add_all(
        [
            UrgentTransfer(
                call_sid="CA1", ticket_id=closed_long_ago.id, phone="+32470000001", status=UrgentStatus.QUEUED
            ),
        ]
    )
    db.session.commit()
    db.session.execute(UrgentTransfer.__table__.update().values(started_at=days_ago(41), ended_at=days_ago(41)))
    db.session.commit()

    done = retention.purge()
    assert (done.recordings, done.recordings_left, done.calls, done.callbacks, done.urgent_calls, done.tickets) == (
        2,
        0,
        3,
        1,
        1,
        1,
    )
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Call.sid))) == ["CA4", "CA5"]
    assert set(desk.emulator.recordings) == {open_recording.sid, recent_recording.sid}
    assert (audio(desk, old_recording.url), audio(desk, orphan_recording.url), audio(desk, open_recording.url)) == (
        404,
        404,
        200,
    )
    gone = db.session.get(Ticket, closed_long_ago.id)
    assert (gone.recording_url, gone.caller_phone) == (None, None)
    assert "removed 30 days after the ticket was closed" in gone.notes[-1].body
    assert db.session.get(Ticket, still_open.id).recording_url == open_recording.url
    assert db.session.get(Ticket, closed_lately.id).caller_phone == "+32470000003"
    assert db.session.get(Callback, old_done.id).phone == ""
    assert db.session.get(Callback, recent_done.id).phone == "+32470000007"
    assert db.session.get(Callback, waiting.id).phone == "+32470000008"
    assert db.session.scalars(select(UrgentTransfer)).one().phone is None

    again = retention.purge()  # nothing left to do
    assert (again.recordings, again.calls, again.callbacks, again.urgent_calls, again.tickets) == (0, 0, 0, 0, 0)


def test_a_second_call_s_recording_goes_with_its_closed_ticket(desk):
    first, second = desk.emulator.new_recording(5), desk.emulator.new_recording(5)
    closed = ticket("+32470000001", first.url, closed_days_ago=40)
    call("CA1", "+32470000001", 50, ticket_id=closed.id, recording_url=first.url)
    call("CA2", "+32470000001", 45, ticket_id=closed.id, recording_url=second.url)  # the ticket kept the first
    assert retention.purge().recordings == 2
    assert desk.emulator.recordings == {}


def test_a_recording_the_provider_keeps_is_tried_again_with_what_points_to_it(desk):
    recording = desk.emulator.new_recording(5)
    closed = ticket("+32470000001", recording.url, closed_days_ago=40)
    call("CA1", "+32470000001", 41, ticket_id=closed.id, recording_url=recording.url)
    desk.emulator.fail_rest = 500
    done = retention.purge()
    assert (done.recordings, done.recordings_left, done.calls, done.tickets) == (0, 1, 0, 0)
    db.session.expire_all()
    assert db.session.get(Ticket, closed.id).recording_url == recording.url
    assert db.session.scalars(select(Call)).one().recording_url == recording.url

    desk.emulator.fail_rest = None
    done = retention.purge()
    assert (done.recordings, done.recordings_left, done.calls, done.tickets) == (1, 0, 1, 1)
    assert recording.sid not in desk.emulator.recordings


def test_a_recording_already_gone_at_the_provider_counts_as_deleted(desk):
    recording = desk.emulator.new_recording(5)
    desk.emulator.delete_recording(recording.sid)
    ticket("+32470000001", recording.url, closed_days_ago=40)
    assert retention.purge().recordings == 1


def test_a_dry_run_counts_and_changes_nothing(desk):
    recording = desk.emulator.new_recording(5)
    closed = ticket("+32470000001", recording.url, closed_days_ago=40)
    call("CA1", "+32470000001", 41, ticket_id=closed.id, recording_url=recording.url)
    ended_callback("+32470000006", "completed", 40)
    done = retention.purge(dry_run=True)
    assert (done.recordings, done.calls, done.callbacks, done.tickets) == (1, 1, 1, 1)
    db.session.expire_all()
    assert recording.sid in desk.emulator.recordings
    assert db.session.get(Ticket, closed.id).recording_url == recording.url
    assert len(db.session.scalars(select(Call)).all()) == 1

    result = desk.app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0 and result.output.startswith("would remove: recordings 1,")
    result = desk.app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "calls 1, callbacks 1" in result.output
    assert recording.sid not in desk.emulator.recordings


def test_without_retention_days_nothing_goes_and_check_says_so(app, runner):
    ticket("+32470000001", "https://api.example/Recordings/RE" + "0" * 32, closed_days_ago=4000)
    call("CA1", "+32470000001", 4000)
    assert retention.purge() == retention.Purged()
    assert len(db.session.scalars(select(Call)).all()) == 1
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 1 and "RETENTION_DAYS is not set" in result.output
    warnings = {finding.topic: finding.text for finding in preflight.settings() if finding.level == preflight.WARN}
    assert warnings["RETENTION_DAYS"] == "not set: callers' numbers, IVR calls and recordings are kept forever"
