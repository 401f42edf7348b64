"""The periodic sweep that makes the engine crash-safe.

Jobs in Redis are only triggers. If a worker died mid-dispatch, a status
callback never came, or Redis was flushed, the truth is still in SQL; this
sweep (run by ``rq cron`` every few seconds) finds what is stuck and moves it
on, so nothing waits for RQ's own cleanup.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import surveys
from app.autotask import sync as autotask
from app.extensions import db
from app.models import AttemptStatus, CallbackAttempt, Outcome, utcnow
from callbacks import attempts, rescue, technicians
from callbacks.dispatch import dispatch

log = logging.getLogger(__name__)


def _stale(status: AttemptStatus, seconds: int) -> list[CallbackAttempt]:
    cutoff = utcnow() - timedelta(seconds=seconds)
    return list(
        db.session.scalars(
            select(CallbackAttempt).where(CallbackAttempt.status == status, CallbackAttempt.started_at < cutoff)
        )
    )


def reconcile() -> dict[str, int]:
    """One sweep; returns what it did, for the log."""
    config = current_app.config
    done = {"wrap_ups_ended": len(technicians.end_wrap_ups())}
    db.session.commit()
    # An offer whose technician leg never reported: the ring timeout is long past.
    done["offers_expired"] = sum(
        attempts.technician_declined(attempt, Outcome.TECHNICIAN_MISSED)
        for attempt in _stale(AttemptStatus.RINGING_TECHNICIAN, config["STALE_OFFER_SECONDS"])
    )
    done["calls_expired"] = sum(
        attempts.customer_call_ended(attempt, "failed", None)
        for attempt in _stale(AttemptStatus.DIALING_CUSTOMER, config["STALE_CALL_SECONDS"])
    )
    done["rescues_taken"] = rescue.drain_spool()
    done["offers_made"] = dispatch()
    done["surveys_requeued"] = surveys.send_pending()
    done["autotask_sweeps_queued"] = autotask.queue_sweep()
    if any(done.values()):
        log.info("reconciled: %s", done)
    return done
