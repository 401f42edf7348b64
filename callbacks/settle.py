"""Callback calls whose news never came: ask the provider how they went.

Two webhooks tell how a call to the customer ended: the Dial action of the
technician's leg and the customer leg's status callback. The provider sends
each once; if both came while the database was down (the safe path answers
them, but the outcome is not stored), the attempt would stay "dialling the
customer" and its technician "on a call" until ``STALE_CALL_SECONDS`` (hours:
a conversation may be long). So the sweep asks the provider about attempts that
have been in that state for ``CALL_CHECK_SECONDS``, each at most once per that
period: once the technician's call is over, the customer leg's status and
duration settle the attempt exactly as the webhooks would have.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from twilio.base.exceptions import TwilioRestException

from app import telephony
from app.extensions import db
from app.models import AttemptStatus, CallbackAttempt, utcnow
from app.queueing import redis_connection
from callbacks import attempts

log = logging.getLogger(__name__)

#: Call statuses after which nothing more happens on a call.
OVER = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
#: Most attempts looked up in one sweep (each lookup is two REST requests).
MOST_PER_SWEEP = 20
CHECKED_KEY = "callbacks:call-checked:{}"


def quiet_calls(seconds: int) -> list[CallbackAttempt]:
    """Attempts dialling (or talking to) the customer since more than ``seconds`` ago, oldest first."""
    since = func.coalesce(CallbackAttempt.answered_at, CallbackAttempt.started_at)
    statement = (
        select(CallbackAttempt)
        .where(
            CallbackAttempt.status == AttemptStatus.DIALING_CUSTOMER,
            CallbackAttempt.technician_call_sid.is_not(None),
            since < utcnow() - timedelta(seconds=seconds),
        )
        .order_by(since)
        .limit(MOST_PER_SWEEP)
    )
    return list(db.session.scalars(statement))


def _due(attempt_id: int, seconds: int) -> bool:
    """At most one lookup per attempt and period (without Redis: one per sweep)."""
    try:
        return bool(redis_connection().set(CHECKED_KEY.format(attempt_id), 1, nx=True, ex=max(seconds, 1)))
    except Exception:
        return True


def settle(attempt: CallbackAttempt) -> bool:
    """End ``attempt`` from the provider's records when its call is over; False while it goes on.

    Raises when the provider cannot be asked (the sweep stops asking until next time).
    """
    client = telephony.rest_client()
    technician_sid = attempt.technician_call_sid
    try:
        technician_call = client.calls(technician_sid).fetch()
    except TwilioRestException as error:
        if error.status == 404:
            log.warning("attempt %s: the provider does not know call %s", attempt.id, technician_sid)
            return False  # left to STALE_CALL_SECONDS
        raise
    if technician_call.status not in OVER:
        return False
    phone = attempt.callback.phone
    legs = [leg for leg in client.calls.list(parent_call_sid=technician_sid, limit=20) if leg.to == phone]
    if not legs:
        status, talk_seconds = "failed", None  # the technician hung up before the customer was dialled
    else:
        leg = legs[0]  # newest first
        status = leg.status if leg.status in OVER else "failed"
        talk_seconds = int(leg.duration) if status == "completed" and leg.duration else None
        if attempt.customer_call_sid is None:
            attempt.customer_call_sid = leg.sid
    settled = attempts.customer_call_ended(attempt, status, talk_seconds)
    if settled:
        log.warning("attempt %s settled from the provider's records: %s", attempt.id, status)
    return settled


def settle_quiet_calls() -> int:
    """The sweep's step: look up quiet calls at the provider; returns how many were settled."""
    seconds = current_app.config["CALL_CHECK_SECONDS"]
    settled = 0
    for attempt in quiet_calls(seconds):
        if not _due(attempt.id, seconds):
            continue
        try:
            settled += settle(attempt)
        except Exception:
            db.session.rollback()
            log.exception("could not ask the provider about attempt %s; next sweep", attempt.id)
            break
    return settled
