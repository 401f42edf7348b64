"""Hand the next callback to the next free technician, and ring the technician.

Dispatching is safe to run twice or in many workers at once: a claim is two
compare-and-set UPDATEs (technician available -> offered, callback waiting ->
offered) and the attempt's INSERT in one transaction. If either UPDATE matches
no row, someone else won that race; we roll back and look again. On
PostgreSQL the candidate rows are read with ``FOR UPDATE SKIP LOCKED`` so
concurrent workers pick different rows instead of queueing behind each
other's locks; the compare-and-set stays the guarantee on both databases.

The queue is served head first: the first due callback that some free
technician may take (see callbacks.matching), then the best technician for it.
"""

import logging

from flask import current_app
from sqlalchemy import update

from app import telephony
from app.extensions import db
from app.models import CallbackAttempt, utcnow
from app.sql import is_postgresql
from callbacks import attempts, lifecycle, matching, technicians
from callbacks.queue import next_due_statement

log = logging.getLogger(__name__)

#: Lost races tolerated in one claim before leaving the rest to the next trigger.
MAX_LOST_RACES = 20
#: Callbacks passed over in one claim because no free technician may take them (all skipped it).
MAX_PASSED_OVER = 50


def _locked(statement):
    """On PostgreSQL, lock the row read and skip rows other dispatchers hold."""
    return statement.with_for_update(skip_locked=True) if is_postgresql() else statement


def claim_next() -> CallbackAttempt | None:
    """Atomically pair the first due callback with a technician who may take it, or return None."""
    lost_races = 0
    passed_over: list[int] = []
    while lost_races < MAX_LOST_RACES and len(passed_over) < MAX_PASSED_OVER:
        now = utcnow()
        team = matching.staff()
        if not team.anyone_free:
            break
        eligible = matching.callback_eligible(team, now)
        callback = db.session.scalars(_locked(next_due_statement(eligible, passed_over))).first()
        if callback is None:
            break
        technician = db.session.scalars(_locked(matching.technician_statement(callback, team, now))).first()
        if technician is None:
            if is_postgresql() and _held_by_another_dispatcher(callback, team, now):
                lost_races += 1
            else:
                passed_over.append(callback.id)  # everyone free skipped it lately
            db.session.rollback()
            continue
        if technicians.offer(technician.id) and lifecycle.offer(callback.id, technician.id):
            attempt = CallbackAttempt(callback_id=callback.id, technician_id=technician.id)
            db.session.add(attempt)
            db.session.commit()
            return attempt
        db.session.rollback()
        lost_races += 1
    db.session.rollback()
    return None


def _held_by_another_dispatcher(callback, team: matching.Staff, now) -> bool:
    """A technician who may take the callback is free but locked by a concurrent claim."""
    return db.session.scalars(matching.technician_statement(callback, team, now)).first() is not None


def ring_technician(attempt: CallbackAttempt) -> bool:
    """Place the technician's leg; on answer the provider fetches the whisper."""
    base = f"/voice/agent/{attempt.id}"
    try:
        sid = telephony.place_call(
            to=attempt.technician.phone,
            url=telephony.public_url(f"{base}/answer"),
            status_callback=telephony.public_url(f"/voice/status?attempt={attempt.id}"),
            timeout=current_app.config["OFFER_RING_SECONDS"],
        )
    except Exception:
        log.exception("could not ring technician %s for attempt %s", attempt.technician_id, attempt.id)
        attempts.offer_failed(attempt)
        return False
    # The answer webhook may already have stored the SID; only fill it if not.
    db.session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt.id, CallbackAttempt.technician_call_sid.is_(None))
        .values(technician_call_sid=sid)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def dispatch() -> int:
    """Offer due callbacks to free technicians until one runs out; returns offers made."""
    offers = 0
    while (attempt := claim_next()) is not None:
        if not ring_technician(attempt):
            break  # the provider is failing; the reconciler tries again shortly
        offers += 1
    return offers
