"""Calls the IVR could not finish because something broke (database down, a bug).

The caller was told we would call back (or left a voicemail). That promise is
written twice: to a spool file under instance/ that the reconciler drains (it
survives Redis restarting empty and RQ's scheduler being down), and to Redis
as a job, so it is kept within seconds when the database is back. Taking a
promise is idempotent per call SID: the job, its retries and the drained spool
line open one ticket and queue at most one callback between them, and a
promise already kept (the callback may be over by then) is not kept again.
"""

import fcntl
import json
import logging
import uuid
from pathlib import Path

from flask import current_app
from rq import Retry
from sqlalchemy import select, update

from app.extensions import db
from app.models import Call, Callback, CallOutcome
from app.queueing import enqueue
from app.tickets import ticket_store
from callbacks import limits
from callbacks.queue import queue_callback

log = logging.getLogger(__name__)

#: Priority of a callback whose urgency the caller could not tell us.
UNKNOWN_PRIORITY = 3
SPOOL_NAME = "rescued-calls.jsonl"


def save_for_later(call_sid: str, phone: str | None, language: str, recording_url: str | None = None) -> None:
    """Keep the promise made to the caller without touching the database."""
    record = {"call_sid": call_sid, "phone": phone, "language": language, "recording_url": recording_url}
    try:
        spool(record)
    except OSError:
        log.exception("rescued call %s could not be spooled; Redis is all that keeps it", call_sid)
    if not enqueue("dispatch", "callbacks.jobs.take_rescued_call", record, retry=Retry(max=20, interval=30)):
        log.error("Redis down: rescued call %s is kept by the spool alone", call_sid)


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
    # The call was not abandoned: it ended with a promise (the row exists if the first step got through).
    db.session.execute(
        update(Call).where(Call.sid == record["call_sid"], Call.outcome.is_(None)).values(outcome=CallOutcome.RESCUED)
    )
    db.session.commit()
    if not limits.may_call_back(record.get("phone")):
        return
    kept = db.session.scalar(select(Callback.id).where(Callback.ticket_id == ticket.id).limit(1))
    if kept is None:  # else the call queued its callback before it broke, or this promise was kept already
        queue_callback(ticket, record["phone"], ticket.priority, record.get("language") or "en")


def spooled_here() -> bool:
    """Whether this host's spool holds promises (one stat)."""
    return (Path(current_app.instance_path) / SPOOL_NAME).exists()


def pending_on_disk() -> int:
    """Promises in this host's spool not taken yet (for /metrics): lines of the spool and of drains in progress."""
    folder = Path(current_app.instance_path)
    pending = 0
    for path in (folder / SPOOL_NAME, *folder.glob(f"{SPOOL_NAME}.*.draining")):
        try:
            pending += sum(1 for line in path.open() if line.strip())
        except FileNotFoundError:
            continue  # drained meanwhile
    return pending


def drain_spool() -> int:
    """Take every spooled rescue (the reconciler calls this); returns how many lines were read.

    The spool is renamed before it is read, so new rescues go to a fresh file;
    a drain that died half-way leaves its renamed file, which the next drain
    reads again (taking a promise twice changes nothing).
    """
    folder = Path(current_app.instance_path)
    path = folder / SPOOL_NAME
    if path.exists():
        path.rename(folder / f"{SPOOL_NAME}.{uuid.uuid4().hex}.draining")
    read = 0
    for working in sorted(folder.glob(f"{SPOOL_NAME}.*.draining")):
        try:
            handle = working.open()
        except FileNotFoundError:
            continue  # another drain finished it meanwhile
        with handle:
            try:
                # A rescue still writing to it (it opened the file before the rename), or another
                # drain, holds its lock: it is left to the next sweep.
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if not working.exists():
                continue
            lines = handle.read().splitlines()
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    log.error("unreadable line in the rescue spool, left out: %r", line)
                    continue
                take_or_spool(record)
            working.unlink()
            read += len(lines)
    return read
