"""Calls the IVR could not finish because something broke (database down, a bug).

The caller was told we would call back (or left a voicemail). That promise is
written to Redis as a job first; if Redis is down too, to a spool file under
instance/ that the reconciler drains. Taking the callback is idempotent per
call SID, so a retried job or a drained spool line never opens a second ticket.
"""

import fcntl
import json
import logging
import os
from pathlib import Path

from flask import current_app
from rq import Retry

from app.extensions import db
from app.queueing import enqueue
from app.tickets import ticket_store
from callbacks.queue import queue_callback

log = logging.getLogger(__name__)

#: Priority of a callback whose urgency the caller could not tell us.
UNKNOWN_PRIORITY = 3
SPOOL_NAME = "rescued-calls.jsonl"


def save_for_later(call_sid: str, phone: str | None, language: str, recording_url: str | None = None) -> None:
    """Keep the promise made to the caller without touching the database."""
    record = {"call_sid": call_sid, "phone": phone, "language": language, "recording_url": recording_url}
    retry = Retry(max=20, interval=30)
    if enqueue("dispatch", "callbacks.jobs.take_rescued_call", record, retry=retry):
        return
    spool(record)
    log.error("Redis down: rescued call %s spooled", call_sid)


def spool(record: dict) -> None:
    """Append a promise to the spool file on disk, which the reconciler drains."""
    with (Path(current_app.instance_path) / SPOOL_NAME).open("a") as spool_file:
        fcntl.flock(spool_file, fcntl.LOCK_EX)
        spool_file.write(json.dumps(record) + "\n")


def take_or_spool(record: dict) -> None:
    """Take the promise now; if the database still fails, move it to disk.

    The job's own retries need RQ's scheduler, which a Redis restart stops for
    minutes; on disk the promise survives that and the reconciler takes it.
    """
    try:
        take(record)
    except Exception:
        log.exception("rescued call %s not taken yet; spooled for the reconciler", record.get("call_sid"))
        db.session.rollback()
        spool(record)


def take(record: dict) -> None:
    """Open (or find) the call's ticket and queue the callback it was promised."""
    store = ticket_store()
    ticket = store.create(
        origin_call_sid=record["call_sid"],
        title="Phone call interrupted by a technical problem",
        caller_phone=record.get("phone"),
        priority=UNKNOWN_PRIORITY,
        recording_url=record.get("recording_url"),
    )
    if record.get("recording_url") and not ticket.recording_url:
        ticket.recording_url = record["recording_url"]
        store.add_note(ticket, f"Voicemail left after a technical problem: {record['recording_url']}")
    if record.get("phone"):
        queue_callback(ticket, record["phone"], ticket.priority, record.get("language") or "en")


def drain_spool() -> int:
    """Take every spooled rescue (the reconciler calls this); returns how many."""
    path = Path(current_app.instance_path) / SPOOL_NAME
    if not path.exists():
        return 0
    working = path.with_suffix(f".{os.getpid()}.draining")
    path.rename(working)  # new rescues go to a fresh file while we work
    lines = working.read_text().splitlines()
    for line in lines:
        take_or_spool(json.loads(line))
    working.unlink()
    return len(lines)
