"""Calls whose news never came: ask the provider how they went.

Two webhooks tell how a call to the customer ended: the Dial action of the
technician's leg and the customer leg's status callback. The provider sends
each once; if both came while the database was down (the safe path answers
them, but the outcome is not stored), the attempt would stay "dialling the
customer" and its technician "on a call" until ``STALE_CALL_SECONDS`` (hours:
a conversation may be long). So the sweep asks the provider about attempts that
have been in that state for ``CALL_CHECK_SECONDS``, each at most once per that
period: once the technician's call is over, the customer leg's status and
duration settle the attempt exactly as the webhooks would have. An urgent call
put through live (callbacks/urgent.py) is followed the same way: once the
caller's call is over, the transfer ends and its technician goes to wrap-up.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from twilio.base.exceptions import TwilioRestException

from app import telephony
from app.clock import utcnow
from app.extensions import db
from app.models import AttemptStatus, CallbackAttempt, UrgentStatus, UrgentTransfer
from app.queueing import redis_connection
from app.telephony import FINAL_CALL_STATUSES
from callbacks import attempts, urgent

log = logging.getLogger(__name__)

#: Most attempts looked up in one sweep (each lookup is two REST requests).
MOST_PER_SWEEP = 20
CHECKED_KEY = "callbacks:call-checked:{}"
URGENT_CHECKED_KEY = "callbacks:urgent-checked:{}"


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


def quiet_transfers(seconds: int) -> list[UrgentTransfer]:
    """Urgent calls put through since more than ``seconds`` ago and not reported over, oldest first."""
    statement = (
        select(UrgentTransfer)
        .where(
            UrgentTransfer.status == UrgentStatus.CONNECTED,
            UrgentTransfer.connected_at < utcnow() - timedelta(seconds=seconds),
        )
        .order_by(UrgentTransfer.connected_at)
        .limit(MOST_PER_SWEEP)
    )
    return list(db.session.scalars(statement))


def _due(key: str, seconds: int) -> bool:
    """At most one lookup per call and period (without Redis: one per sweep)."""
    try:
        return bool(redis_connection().set(key, 1, nx=True, ex=max(seconds, 1)))
    except Exception:
        return True


def _fetch(sid: str):
    """The provider's record of call ``sid``; None when it does not know it."""
    try:
        return telephony.rest_client().calls(sid).fetch()
    except TwilioRestException as error:
        if error.status == 404:
            log.warning("the provider does not know call %s", sid)
            return None
        raise


def settle(attempt: CallbackAttempt) -> bool:
    """End ``attempt`` from the provider's records when its call is over; False while it goes on.

    Raises when the provider cannot be asked (the sweep stops asking until next time).
    """
    client = telephony.rest_client()
    technician_sid = attempt.technician_call_sid
    technician_call = _fetch(technician_sid)
    if technician_call is None or technician_call.status not in FINAL_CALL_STATUSES:
        return False  # still going on; or unknown, left to STALE_CALL_SECONDS
    phone = attempt.callback.phone
    legs = [leg for leg in client.calls.list(parent_call_sid=technician_sid, limit=20) if leg.to == phone]
    if not legs:
        status, talk_seconds = "failed", None  # the technician hung up before the customer was dialled
    else:
        leg = legs[0]  # newest first
        status = leg.status if leg.status in FINAL_CALL_STATUSES else "failed"
        talk_seconds = int(leg.duration) if status == "completed" and leg.duration else None
        if attempt.customer_call_sid is None:
            attempt.customer_call_sid = leg.sid
    settled = attempts.customer_call_ended(attempt, status, talk_seconds, final=True)
    if settled:
        log.warning("attempt %s settled from the provider's records: %s", attempt.id, status)
    return settled


def settle_transfer(transfer: UrgentTransfer) -> bool:
    """End a connected urgent transfer once the caller's call is over; False while it goes on."""
    caller_call = _fetch(transfer.call_sid)
    if caller_call is None or caller_call.status not in FINAL_CALL_STATUSES:
        return False
    # The one who took the call was rung by a call of their own: its length is the talk.
    taker_sid = urgent.taker_call_sid(transfer)
    taker = _fetch(taker_sid) if taker_sid else None
    talked = int(taker.duration) if taker is not None and taker.status == "completed" and taker.duration else None
    settled = urgent.call_over(transfer, talked)
    if settled:
        log.warning("urgent transfer %s settled from the provider's records", transfer.id)
    return settled


def settle_quiet_calls() -> int:
    """The sweep's step: look up quiet calls at the provider; returns how many were settled."""
    seconds = current_app.config["CALL_CHECK_SECONDS"]
    quiet = [(CHECKED_KEY.format(a.id), settle, a) for a in quiet_calls(seconds)]
    quiet += [(URGENT_CHECKED_KEY.format(t.id), settle_transfer, t) for t in quiet_transfers(seconds)]
    settled = 0
    for key, settle_one, row in quiet:
        if not _due(key, seconds):
            continue
        try:
            settled += settle_one(row)
        except Exception:
            db.session.rollback()
            log.exception("could not ask the provider about %s %s; next sweep", type(row).__name__, row.id)
            break
    return settled
