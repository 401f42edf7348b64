"""What happens when an attempt ends: the one place attempts are written.

An attempt is one offer of a callback to one technician and, if they accept,
one call to the customer. The provider reports its end more than once (Dial
action, status callbacks, replays); the first report wins by compare-and-set
on the attempt's status and the others change nothing.
"""

import logging
from collections.abc import Sequence

from flask import current_app

from app import telephony
from app.clock import utcnow
from app.extensions import db
from app.models import AttemptOutcome, AttemptStatus, CallbackAttempt
from app.sql import compare_and_set
from app.tickets import progress, ticket_store
from callbacks import lifecycle, technicians, triggers

log = logging.getLogger(__name__)

#: Dial outcomes (DialCallStatus or the customer leg's CallStatus) per attempt outcome.
CUSTOMER_OUTCOMES = {
    "completed": AttemptOutcome.CONNECTED,
    "answered": AttemptOutcome.CONNECTED,
    "busy": AttemptOutcome.BUSY,
    "no-answer": AttemptOutcome.NO_ANSWER,
    "failed": AttemptOutcome.FAILED,
    "canceled": AttemptOutcome.NO_ANSWER,
}


def open_many(pairs: Sequence[tuple[int, int]]) -> list[CallbackAttempt]:
    """One attempt per claimed (callback, technician) pair, inserted in one statement, in the pairs' order."""
    opened = [
        CallbackAttempt(callback_id=callback_id, technician_id=technician_id) for callback_id, technician_id in pairs
    ]
    db.session.add_all(opened)
    db.session.flush()
    return opened


def get(attempt_id: int) -> CallbackAttempt | None:
    return db.session.get(CallbackAttempt, attempt_id)


def technician_answered(attempt: CallbackAttempt, call_sid: str) -> bool:
    """The technician picked up and hears the whisper. False when the offer is gone."""
    if attempt.status != AttemptStatus.RINGING_TECHNICIAN:
        return False
    if attempt.answered_at is None:
        attempt.answered_at = utcnow()
        attempt.technician_call_sid = attempt.technician_call_sid or call_sid or None
        db.session.commit()
    return True


def accept(attempt: CallbackAttempt) -> bool:
    """The technician pressed 1: the callback starts and the customer is dialled."""
    if not compare_and_set(
        CallbackAttempt.status, attempt.id, AttemptStatus.RINGING_TECHNICIAN, status=AttemptStatus.DIALING_CUSTOMER
    ):
        db.session.rollback()
        return attempt.status == AttemptStatus.DIALING_CUSTOMER
    lifecycle.start(attempt.callback_id)
    technicians.accept(attempt.technician_id)
    db.session.commit()
    log.info("callback %s accepted by %s: calling the customer", attempt.callback_id, attempt.technician.name)
    return True


def _end(attempt: CallbackAttempt, expected: AttemptStatus, outcome: AttemptOutcome, **values) -> bool:
    """Close the attempt once; False if another report closed it first."""
    ended = compare_and_set(
        CallbackAttempt.status,
        attempt.id,
        expected,
        status=AttemptStatus.ENDED,
        outcome=outcome,
        ended_at=utcnow(),
        **values,
    )
    if not ended:
        db.session.rollback()
    return ended


def technician_declined(attempt: CallbackAttempt, outcome: AttemptOutcome) -> bool:
    """Missed (rang out, hung up) or skipped: the callback goes to the next technician at once.

    Not a customer attempt, so the callback keeps its place and its count.
    """
    if not _end(attempt, AttemptStatus.RINGING_TECHNICIAN, outcome):
        return False
    lifecycle.return_to_queue(attempt.callback_id)
    if outcome == AttemptOutcome.TECHNICIAN_MISSED:
        technicians.missed(attempt.technician_id)
    else:
        technicians.skipped(attempt.technician_id)
    db.session.commit()
    what = "missed" if outcome == AttemptOutcome.TECHNICIAN_MISSED else "skipped"
    ticket_store().add_note(attempt.callback.ticket, f"Callback offered to {attempt.technician.name}: {what}.")
    return True


def withdrawn(attempt: CallbackAttempt) -> bool:
    """The callback was cancelled while its technician was being rung; the caller moves callback and technician."""
    return _end(attempt, AttemptStatus.RINGING_TECHNICIAN, AttemptOutcome.CANCELLED)


def offer_failed(attempt: CallbackAttempt) -> bool:
    """The technician was never rung (the provider refused, or the dispatcher died): undo the claim, count nothing."""
    if not _end(attempt, AttemptStatus.RINGING_TECHNICIAN, AttemptOutcome.NOT_RUNG):
        return False
    lifecycle.return_to_queue(attempt.callback_id)
    technicians.release(attempt.technician_id)
    db.session.commit()
    return True


#: The customer leg's statuses that mean someone (or something) picked up.
ANSWERED_STATUSES = frozenset({"completed", "answered"})


def customer_call_ended(
    attempt: CallbackAttempt, provider_status: str, talk_seconds: int | None, final: bool = False
) -> bool:
    """The call to the customer is over.

    Not answered (busy, no answer, failed): not reached, at once. Answered: the
    technician's after-call menu says how it went (``after_call``); until then
    only the talk time is kept. ``final``: the technician's call is over too (the
    reconciler asked the provider), so the answered call ends with the default.
    """
    if provider_status not in ANSWERED_STATUSES:
        return _settle(attempt, CUSTOMER_OUTCOMES.get(provider_status, AttemptOutcome.FAILED), talk_seconds)
    if attempt.status == AttemptStatus.DIALING_CUSTOMER and talk_seconds is not None:
        attempt.talk_seconds = talk_seconds
        db.session.commit()
    return _settle(attempt, default_outcome(attempt), talk_seconds) if final else False


def customer_answered_by(attempt: CallbackAttempt, answered_by: str) -> None:
    """Answering-machine detection's verdict on the customer's leg (a machine is never "reached")."""
    if attempt.status == AttemptStatus.DIALING_CUSTOMER and not attempt.answered_by:
        attempt.answered_by = answered_by[:20]
        db.session.commit()


def default_outcome(attempt: CallbackAttempt) -> AttemptOutcome:
    """No key in the after-call menu: connected, unless the provider detected a machine."""
    return AttemptOutcome.VOICEMAIL if telephony.is_machine(attempt.answered_by) else AttemptOutcome.CONNECTED


#: What a technician can say about an answered customer call (the after-call menu, the console).
AFTER_CALL_CHOICES = (AttemptOutcome.CONNECTED, AttemptOutcome.VOICEMAIL, AttemptOutcome.WRONG_NUMBER)


def awaiting_after_call(attempt: CallbackAttempt) -> bool:
    """The customer's leg was answered and is over, and nobody has said yet how it went."""
    return (
        attempt.status == AttemptStatus.DIALING_CUSTOMER
        and attempt.outcome is None
        and attempt.talk_seconds is not None
    )


def after_call(attempt: CallbackAttempt, outcome: AttemptOutcome | None) -> bool:
    """The technician's after-call menu (or their leg ending without it): how the answered call went."""
    return _settle(attempt, outcome or default_outcome(attempt), attempt.talk_seconds)


def _settle(attempt: CallbackAttempt, outcome: AttemptOutcome, talk_seconds: int | None) -> bool:
    """End the attempt once: connected, a wrong number, or not reached (retry or give up)."""
    if not _end(attempt, AttemptStatus.DIALING_CUSTOMER, outcome, talk_seconds=talk_seconds):
        return False
    config = current_app.config
    callback = attempt.callback
    given_up = False
    if outcome == AttemptOutcome.CONNECTED:
        lifecycle.complete(callback.id)
        technicians.start_wrap_up(attempt.technician_id)
        note = f"Called back by {attempt.technician.name}: connected ({talk_seconds or 0} s)."
    elif outcome == AttemptOutcome.WRONG_NUMBER:
        lifecycle.give_up(callback.id, wrong_number=True)
        technicians.release(attempt.technician_id)
        note = (
            f"Callback by {attempt.technician.name}: wrong number ({callback.phone} reached someone else). "
            "The callback is unreachable; the managers see it flagged."
        )
    elif callback.attempts + 1 >= config["MAX_ATTEMPTS"]:
        given_up = lifecycle.give_up(callback.id)
        technicians.release(attempt.technician_id)
        note = f"Callback given up after {callback.attempts + 1} attempts: customer not reached ({outcome})."
    else:
        lifecycle.return_to_queue(callback.id, retry_after_seconds=config["RETRY_INTERVAL_SECONDS"], count_attempt=True)
        technicians.release(attempt.technician_id)
        note = f"Callback attempt by {attempt.technician.name}: customer not reached ({outcome})."
    db.session.commit()
    log.info("callback %s attempt %s: %s", callback.id, attempt.id, outcome)
    # After the commit: a trigger lost now is made good by the reconciler's next sweep.
    if outcome == AttemptOutcome.CONNECTED:
        triggers.end_wrap_up_in(attempt.technician_id, config["WRAP_UP_SECONDS"])
    elif given_up:
        triggers.queue_unreachable_notice(callback.id)
    elif outcome != AttemptOutcome.WRONG_NUMBER:
        triggers.dispatch_in(config["RETRY_INTERVAL_SECONDS"])
    ticket_store().add_note(callback.ticket, note)
    if outcome == AttemptOutcome.CONNECTED:
        progress.work_started(callback.ticket)
    elif given_up:
        progress.customer_unreachable(callback.ticket)
    return True
