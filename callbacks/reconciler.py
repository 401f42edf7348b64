"""The periodic sweep that makes the engine crash-safe.

Jobs in Redis are only triggers. If a worker died mid-dispatch, a status
callback never came, or Redis was flushed, the truth is still in SQL; this
sweep (``rq cron`` every ``RECONCILE_SECONDS``) finds what is stuck and moves
it on, so nothing waits for RQ's own cleanup. Every step is a compare-and-set
transition, so a sweep racing a late webhook or another sweep is harmless.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import queueing
from app.clock import utcnow
from app.extensions import db
from app.models import AttemptOutcome, AttemptStatus, CallbackAttempt
from callbacks import attempts, lifecycle, notices, pacing, rescue, settle, technicians, urgent
from callbacks.dispatch import BATCH_SIZE, dispatch

log = logging.getLogger(__name__)


def _older_than(status: AttemptStatus, seconds: int, *conditions) -> list[CallbackAttempt]:
    cutoff = utcnow() - timedelta(seconds=seconds)
    statement = select(CallbackAttempt).where(
        CallbackAttempt.status == status, CallbackAttempt.started_at < cutoff, *conditions
    )
    return list(db.session.scalars(statement))


def _overdue_jobs() -> int:
    try:
        return queueing.enqueue_overdue()
    except Exception:
        log.exception("could not look for overdue scheduled jobs")
        return 0


def reconcile() -> dict[str, int]:
    """One sweep; returns what it did, for the log."""
    config = current_app.config
    done = {"wrap_ups_ended": len(technicians.end_wrap_ups())}
    db.session.commit()
    # Claimed but never rung: the dispatcher died between the claim and the call. Not the
    # technician's fault, so no miss is counted; the callback goes back to its place. An offer
    # still waiting its turn at TWILIO_CPS is not dead: the bound allows a whole batch's pacing.
    done["unrung_offers_undone"] = sum(
        attempts.offer_failed(attempt)
        for attempt in _older_than(
            AttemptStatus.RINGING_TECHNICIAN,
            config["UNRUNG_OFFER_SECONDS"] + int(pacing.batch_allowance(BATCH_SIZE)),
            CallbackAttempt.technician_call_sid.is_(None),
            CallbackAttempt.answered_at.is_(None),
        )
    )
    # Rung, but the technician leg never reported: the ring timeout is long past.
    done["offers_expired"] = sum(
        attempts.technician_declined(attempt, AttemptOutcome.TECHNICIAN_MISSED)
        for attempt in _older_than(AttemptStatus.RINGING_TECHNICIAN, config["STALE_OFFER_SECONDS"])
    )
    # Dialling the customer with no news: the provider's records settle calls whose webhooks were lost.
    done["calls_settled"] = settle.settle_quiet_calls()
    done["calls_expired"] = sum(
        attempts.customer_call_ended(attempt, "failed", None)
        for attempt in _older_than(AttemptStatus.DIALING_CUSTOMER, config["STALE_CALL_SECONDS"])
    )
    # Safety nets: nobody rung or on a call, and no callback offered, without an open attempt.
    grace = utcnow() - timedelta(seconds=config["STALE_OFFER_SECONDS"])
    done["urgent_expired"] = urgent.expire_stale()
    done["technicians_freed"] = len(technicians.free_stuck(grace))
    done["callbacks_released"] = len(lifecycle.release_stuck(grace))
    db.session.commit()
    done["notices_requeued"] = notices.requeue_lost()
    done["rescues_taken"] = rescue.drain_spool()
    done["overdue_jobs_queued"] = _overdue_jobs()
    # Due retries and freed technicians are served here even if every trigger was lost.
    done["offers_made"] = dispatch()
    # Quiet unless it moved something: every RECONCILE_SECONDS, a heartbeat would drown the events.
    moved = ", ".join(f"{what.replace('_', ' ')} {count}" for what, count in done.items() if count)
    log.log(logging.INFO if moved else logging.DEBUG, "reconciled: %s", moved or "nothing to do")
    return done
