"""Hand the next callbacks to the free technicians, and ring the technicians.

Dispatching is safe to run twice or in many workers at once. A claim is, in
one transaction, two compare-and-set UPDATEs (technicians available ->
offered, callbacks waiting -> offered) and the attempts' INSERT. If either
UPDATE does not match every row it names, someone else won that race; we roll
back and look again. Claims are made in batches: one transaction pairs as many
due callbacks with free technicians as there are (up to ``BATCH_SIZE``), so a
morning's log-in rush costs a handful of statements, not a handful per callback.

Claims take turns: on SQLite a claim first takes the database's write lock (a
no-op UPDATE), on PostgreSQL a transaction-scoped advisory lock. One claim is a
few milliseconds and a batch serves twenty technicians, so the turns cost
nothing measurable, and they keep first offers in exact queue order: no claim
can pass a callback over while another claim holds it. On PostgreSQL the
candidate callbacks are read with ``FOR UPDATE SKIP LOCKED``, so a claim never
waits on a callback a webhook or a cancel is changing: it takes the next one.
The compare-and-set stays the guarantee on both databases.

The queue is served head first: each due callback, in queue order, goes to the
best free technician who may take it (see callbacks.matching).
"""

import logging

from flask import current_app
from sqlalchemy import Select, func, select, text, update

from app import telephony, urls
from app.clock import utcnow
from app.extensions import db
from app.models import AT_WORK, AttemptStatus, Callback, CallbackAttempt, Technician, TechnicianState
from app.sql import is_postgresql
from callbacks import attempts, lifecycle, matching, pacing, technicians
from callbacks.queue import due_candidates_statement

log = logging.getLogger(__name__)

#: Most callbacks claimed in one transaction: a log-in rush is served in a few batches, and the
#: first technician rung does not wait long for the last one of the batch.
BATCH_SIZE = 20
#: Lost races (or looks past callbacks nobody free may take) before leaving the rest to the next trigger.
MAX_TRIES = 20
#: Callbacks read beyond two per free technician: room for those nobody free may take (skipped, language).
CANDIDATE_SLACK = 4

#: The PostgreSQL advisory lock claims take turns on ("CBD" + 1).
CLAIM_LOCK = 0x43424401

AT_WORK_TECHNICIANS = (
    select(Technician.id, Technician.state, Technician.languages)
    .where(Technician.state.in_(AT_WORK))
    .order_by(Technician.state_since, Technician.id)
)


def _take_turns() -> None:
    """Wait for any other claim to finish; the turn is ours until our commit or rollback."""
    if is_postgresql():
        # Database-wide: one desk per database.
        db.session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
    else:
        # An UPDATE that changes nothing still takes SQLite's write lock.
        db.session.execute(text("UPDATE technician SET state = state WHERE 0"))


def _skip_locked(statement: Select) -> Select:
    """PostgreSQL: lock the candidates read, passing by rows a webhook or a cancel is changing right now."""
    return statement.with_for_update(skip_locked=True, of=Callback) if is_postgresql() else statement


def claim_batch(limit: int = BATCH_SIZE) -> list[CallbackAttempt]:
    """Pair up to ``limit`` due callbacks, head of the queue first, with free technicians; [] when none can be."""
    passed_over: list[int] = []
    for _ in range(MAX_TRIES):
        _take_turns()
        now = utcnow()
        team = db.session.execute(AT_WORK_TECHNICIANS).all()
        free = [
            matching.FreeTechnician(technician_id, matching.split_languages(languages))
            for technician_id, state, languages in team
            if state == TechnicianState.AVAILABLE
        ]
        if not free:
            break
        at_work = frozenset().union(*(matching.split_languages(languages) for _, _, languages in team))
        wanted = 2 * min(limit, len(free)) + CANDIDATE_SLACK
        eligible = matching.callback_eligible(free, at_work, now)
        statement = due_candidates_statement(eligible, passed_over, wanted, matching.skipped_lately(now))
        candidates = [matching.Candidate(*row) for row in db.session.execute(_skip_locked(statement))]
        skips = matching.recent_skips(candidates, now)
        pairs = matching.pair(candidates, free, at_work, skips, now)[:limit]
        if not pairs:
            db.session.rollback()
            if len(candidates) < wanted:
                break
            passed_over.extend(candidate.id for candidate in candidates)  # nobody free may take these now
            continue
        if technicians.offer_many([technician_id for _, technician_id in pairs]) and lifecycle.offer_many(pairs):
            claimed = attempts.open_many(pairs)
            db.session.commit()
            return claimed
        db.session.rollback()  # one of them moved meanwhile (an urgent call rang them, a cancel): look again
    db.session.rollback()
    return []


def ring_technician(attempt: CallbackAttempt) -> bool:
    """Place the technician's leg; on answer the provider fetches the whisper. False when the provider fails."""
    db.session.refresh(attempt)
    if attempt.status != AttemptStatus.RINGING_TECHNICIAN:
        return True  # cancelled, or undone by the sweep, while its batch was being rung
    pacing.clear_to_send()
    try:
        sid = telephony.place_call(
            to=attempt.technician.phone,
            url=urls.technician_answer(attempt.id),
            status_callback=urls.call_status(attempt.id),
            timeout=current_app.config["OFFER_RING_SECONDS"],
            detect_machine=True,
        )
    except Exception:
        log.exception("could not ring technician %s for attempt %s", attempt.technician_id, attempt.id)
        attempts.offer_failed(attempt)
        return False
    log.info("callback %s offered to %s", attempt.callback_id, attempt.technician.name)
    # The answer webhook may already have stored the SID; only fill it if not. The offer
    # counts from now, when its call was placed, not from its claim (it may have waited its turn).
    db.session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt.id, CallbackAttempt.technician_call_sid.is_(None))
        .values(technician_call_sid=sid, started_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def dispatch() -> int:
    """Offer due callbacks to free technicians until one side runs out; returns the offers rung."""
    rung = 0
    while claimed := claim_batch():
        telephony.rest_client()  # built before the first turn, not in it
        calls_go = pacing.turns(len(claimed))  # paced to TWILIO_CPS, in queue order
        for index, attempt in enumerate(claimed):
            pacing.wait_for(calls_go[index])
            if not ring_technician(attempt):
                # The provider is failing: undo the rest of the batch unrung; the sweep tries again soon.
                for unrung in claimed[index + 1 :]:
                    attempts.offer_failed(unrung)
                return rung
            rung += 1
    return rung
