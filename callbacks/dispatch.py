"""Hand the next callback to the next free technician, and ring the technician.

Dispatching is safe to run twice or in many workers at once: a claim is two
compare-and-set UPDATEs (technician available -> offered, callback waiting ->
offered) in one transaction. If either matches no row, someone else won that
race; we roll back and look again. On PostgreSQL the candidate rows are read
with ``FOR UPDATE SKIP LOCKED`` so concurrent workers pick different rows
instead of queueing behind each other's locks; the compare-and-set stays the
guarantee on both databases.
"""

import logging

from flask import current_app
from sqlalchemy import select

from app import telephony
from app.extensions import db
from app.models import CallbackAttempt, Technician, TechnicianState
from app.sql import is_postgresql
from callbacks import attempts, lifecycle, technicians
from callbacks.queue import next_due_statement

log = logging.getLogger(__name__)

#: Lost races tolerated in one dispatch run before leaving the rest to the next trigger.
MAX_LOST_RACES = 20


def _free_technician_statement():
    """The technician idle the longest gets the next callback."""
    return (
        select(Technician)
        .where(Technician.state == TechnicianState.AVAILABLE)
        .order_by(Technician.state_since, Technician.id)
        .limit(1)
    )


def claim_next() -> CallbackAttempt | None:
    """Atomically pair the first due callback with a free technician, or return None."""
    lost_races = 0
    while lost_races < MAX_LOST_RACES:
        technician_query, callback_query = _free_technician_statement(), next_due_statement()
        if is_postgresql():
            technician_query = technician_query.with_for_update(skip_locked=True)
            callback_query = callback_query.with_for_update(skip_locked=True)
        technician = db.session.scalars(technician_query).first()
        callback = db.session.scalars(callback_query).first() if technician else None
        if technician is None or callback is None:
            db.session.rollback()
            return None
        if technicians.offer(technician.id) and lifecycle.offer(callback.id, technician.id):
            attempt = CallbackAttempt(callback_id=callback.id, technician_id=technician.id)
            db.session.add(attempt)
            db.session.commit()
            return attempt
        db.session.rollback()
        lost_races += 1
    return None


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
    # The status callback may already have stored the SID; only fill it if not.
    attempt = db.session.get(CallbackAttempt, attempt.id, populate_existing=True)
    if attempt.technician_call_sid is None:
        attempt.technician_call_sid = sid
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
