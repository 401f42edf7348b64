"""Personal data kept no longer than ``RETENTION_DAYS`` (0, the default, keeps everything).

What the phone line itself holds about a caller goes once it is that old:

- **inbound calls** (the IVR's rows: the caller's number, what they keyed and said)
  ended before the cutoff are deleted;
- **callbacks** and **urgent calls** that ended before the cutoff lose their phone
  number (the rows stay: they are the desk's history and its figures);
- **recordings** of the problem descriptions are deleted at the provider once their
  ticket has been closed for that long (or, for a call that opened none, once the call
  ended that long ago), the ticket's own and those of its other calls; a closed
  ticket then loses its recording link and its caller's number, with a note. Open tickets
  keep everything. The rest of a ticket (title, description, notes) is the ticket system's
  record, kept by its own rules;
- **surveys** sent (or made) before the cutoff lose the customer's e-mail address and
  comment; the rating stays, for the figures.

A recording the provider cannot delete now is left for the next run, with the rows
that point to it. ``rq cron`` runs this hourly when ``RETENTION_DAYS`` is set, and
``flask --app app purge`` does it (or, with ``--dry-run``, counts it) on demand.
"""

import logging
import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from twilio.base.exceptions import TwilioRestException

from app import telephony
from app.clock import utcnow
from app.extensions import db
from app.models import OPEN_URGENT_STATUSES, Call, Callback, CallbackStatus, Survey, Ticket, UrgentTransfer
from app.queueing import job_context
from app.tickets import ticket_store

log = logging.getLogger(__name__)

#: The SID in a provider recording URL: .../Accounts/AC.../Recordings/RE...
RECORDING_SID = re.compile(r"/Recordings/(RE[0-9a-fA-F]{32})")
FINAL_CALLBACK_STATUSES = (CallbackStatus.COMPLETED, CallbackStatus.UNREACHABLE, CallbackStatus.CANCELLED)
#: Rows handled per statement, so a first run on years of data holds no lock for long.
CHUNK = 500


@dataclass
class Purged:
    recordings: int = 0
    recordings_left: int = 0
    calls: int = 0
    callbacks: int = 0
    urgent_calls: int = 0
    tickets: int = 0
    surveys: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{field.name.replace('_', ' ')} {getattr(self, field.name)}" for field in fields(self))


def cutoff(now: datetime | None = None) -> datetime | None:
    days = current_app.config["RETENTION_DAYS"]
    return None if days <= 0 else (now or utcnow()) - timedelta(days=days)


def purge(now: datetime | None = None, dry_run: bool = False) -> Purged:
    """Remove what is older than the retention period; returns what went (or would go)."""
    before = cutoff(now)
    done = Purged()
    if before is None:
        return done
    kept_recordings = _recordings(before, done, dry_run)
    done.calls = _calls(before, kept_recordings, dry_run)
    done.callbacks = _apply(
        update(Callback)
        .where(Callback.status.in_(FINAL_CALLBACK_STATUSES), Callback.ended_at < before, Callback.phone != "")
        .values(phone=""),
        Callback,
        dry_run,
    )
    done.urgent_calls = _apply(
        update(UrgentTransfer)
        .where(
            UrgentTransfer.status.not_in(OPEN_URGENT_STATUSES),
            UrgentTransfer.started_at < before,
            UrgentTransfer.phone.is_not(None),
        )
        .values(phone=None),
        UrgentTransfer,
        dry_run,
    )
    done.surveys = _apply(
        update(Survey)
        .where(
            func.coalesce(Survey.sent_at, Survey.created_at) < before,
            or_(Survey.email.is_not(None), Survey.comment.is_not(None)),
        )
        .values(email=None, comment=None),
        Survey,
        dry_run,
    )
    if dry_run:
        db.session.rollback()
    if any(getattr(done, field.name) for field in fields(done)):
        days = current_app.config["RETENTION_DAYS"]
        log.info("retention (%s days)%s: %s", days, " dry run" if dry_run else "", done)
    return done


def _recordings(before: datetime, done: Purged, dry_run: bool) -> set[str]:
    """Delete due recordings at the provider; returns the URLs that must stay (the provider refused)."""
    closed_tickets = db.session.scalars(
        select(Ticket).where(
            Ticket.closed_at < before, or_(Ticket.recording_url.is_not(None), Ticket.caller_phone.is_not(None))
        )
    ).all()
    # A call's own recording may not be its ticket's (the ticket had one already), or the call opened none.
    call_urls = db.session.scalars(
        select(Call.recording_url)
        .outerjoin(Ticket, Call.ticket_id == Ticket.id)
        .where(
            Call.ended_at < before,
            Call.recording_url.is_not(None),
            or_(Call.ticket_id.is_(None), Ticket.closed_at < before),
        )
    ).all()
    urls = {ticket.recording_url for ticket in closed_tickets if ticket.recording_url} | set(call_urls)
    kept: set[str] = set()
    for url in sorted(urls):
        if dry_run or _delete_at_provider(url):
            done.recordings += 1
        else:
            kept.add(url)
    done.recordings_left = len(kept)
    for ticket in closed_tickets:
        if ticket.recording_url in kept:
            continue
        if dry_run:
            done.tickets += 1
            continue
        had_recording = ticket.recording_url is not None
        ticket.recording_url = ticket.caller_phone = None
        db.session.commit()
        days = current_app.config["RETENTION_DAYS"]
        what = "recording and caller's number" if had_recording else "caller's number"
        ticket_store().add_note(ticket, f"The {what} were removed {days} days after the ticket was closed.")
        done.tickets += 1
    return kept


def _delete_at_provider(url: str) -> bool:
    """True when the recording is gone at the provider (deleted now, or already)."""
    match = RECORDING_SID.search(url)
    if match is None:
        log.warning("retention: %s is not a provider recording URL; only the link goes", url)
        return True
    try:
        telephony.rest_client().recordings(match.group(1)).delete()
    except TwilioRestException as error:
        if error.status == 404:
            return True
        log.warning("retention: the provider kept recording %s (%s); next run", match.group(1), error.status)
        return False
    except Exception:
        log.exception("retention: recording %s not deleted; next run", match.group(1))
        return False
    return True


def _calls(before: datetime, kept_recordings: set[str], dry_run: bool) -> int:
    """Delete ended calls older than the cutoff (and calls that never reported an end, a day later still)."""
    old = or_(Call.ended_at < before, (Call.ended_at.is_(None)) & (Call.started_at < before - timedelta(days=1)))
    keep = Call.recording_url.not_in(kept_recordings) if kept_recordings else None
    conditions = [old] if keep is None else [old, or_(Call.recording_url.is_(None), keep)]
    ids = db.session.scalars(select(Call.id).where(*conditions)).all()
    if not dry_run:
        for start in range(0, len(ids), CHUNK):
            db.session.execute(delete(Call).where(Call.id.in_(ids[start : start + CHUNK])))
            db.session.commit()
    return len(ids)


def _apply(statement, model, dry_run: bool) -> int:
    if dry_run:
        counted = statement.whereclause
        return db.session.scalar(select(db.func.count()).select_from(model).where(counted))
    changed = db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed


def purge_job() -> str:
    """The cron job (callbacks/cron.py)."""
    with job_context():
        return str(purge())
