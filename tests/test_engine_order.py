"""Who gets called back first: priority, first-queued time, retries, aging, and language."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import Callback
from app.sql import is_postgresql
from app.tickets.sql import SqlTicketStore
from callbacks import lifecycle
from callbacks.queue import position, queue_callback, waiting
from tests.helpers import add_technician, claim_next


def queued(number: str, priority: int, minutes_ago: float = 0, language: str = "en") -> Callback:
    ticket = SqlTicketStore().create(title=f"problem of {number}", priority=priority)
    callback, created = queue_callback(ticket, number, priority, language)
    assert created
    callback.queued_at = callback.due_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return callback


def claimed_in_order(count: int) -> list[int]:
    """Claim ``count`` callbacks with one free technician at a time; their ids in claim order."""
    order = []
    for i in range(count):
        add_technician(f"Tech {i}", f"+3247100{i:04d}", languages="nl,fr,en")
        attempt = claim_next()
        order.append(attempt.callback_id)
    return order


def test_higher_priority_first_then_first_come(app):
    p3_early = queued("+32470000001", 3, minutes_ago=30)
    p2_late = queued("+32470000002", 2, minutes_ago=1)
    p2_early = queued("+32470000003", 2, minutes_ago=20)
    p1 = queued("+32470000004", 1)
    assert claimed_in_order(4) == [p1.id, p2_early.id, p2_late.id, p3_early.id]


def test_a_retry_takes_its_old_place_back_once_its_interval_has_passed(app):
    first = queued("+32470000001", 3, minutes_ago=30)
    second = queued("+32470000002", 3, minutes_ago=10)
    assert lifecycle.offer(first.id, technician_id=None) and lifecycle.start(first.id)
    assert lifecycle.return_to_queue(first.id, retry_after_seconds=600, count_attempt=True)
    db.session.commit()
    add_technician("Jan", "+32471000001")
    # Not due: the second caller is offered, while the retry keeps position 1.
    assert claim_next().callback_id == second.id
    assert position(db.session.get(Callback, first.id)) == 1
    first.due_at = utcnow() - timedelta(seconds=1)
    third = queued("+32470000003", 3, minutes_ago=5)
    db.session.commit()
    add_technician("Marie", "+32471000002")
    assert claim_next().callback_id == first.id
    assert db.session.get(Callback, third.id).status == "waiting"


def test_aging_is_off_by_default(app):
    old_p3 = queued("+32470000001", 3, minutes_ago=600)
    new_p2 = queued("+32470000002", 2)
    assert [c.id for c in waiting()] == [new_p2.id, old_p3.id]


def test_a_callback_past_its_target_moves_up_one_level(app):
    app.config["AGING_MINUTES"] = {3: 60, 4: 30}
    p2 = queued("+32470000001", 2, minutes_ago=10)
    aged_p3 = queued("+32470000002", 3, minutes_ago=61)  # sorts as P2, and was queued before p2
    young_p3 = queued("+32470000003", 3, minutes_ago=59)
    aged_p4 = queued("+32470000004", 4, minutes_ago=700)  # one level only: P3, queued before both P3s
    p1 = queued("+32470000005", 1)
    expected = [p1.id, aged_p3.id, p2.id, aged_p4.id, young_p3.id]
    assert [c.id for c in waiting()] == expected
    assert [position(db.session.get(Callback, i)) for i in expected] == [1, 2, 3, 4, 5]
    assert claimed_in_order(5) == expected
    # The stored priority is the caller's; only the order ages.
    assert db.session.get(Callback, aged_p4.id).priority == 4


def test_a_callback_goes_to_a_technician_who_speaks_its_language(app):
    dutch = add_technician("Jan", "+32471000001", languages="nl")
    french = add_technician("Marie", "+32471000002", languages="fr,en")
    dutch.state_since = utcnow() - timedelta(hours=1)  # idle longest, but does not speak French
    db.session.commit()
    callback = queued("+32470000001", 3, language="fr")
    attempt = claim_next()
    assert (attempt.callback_id, attempt.technician_id) == (callback.id, french.id)


def test_a_caller_waiting_for_a_busy_speaker_does_not_hold_up_the_queue(app):
    add_technician("Marie", "+32471000002", languages="fr", state="on_call")
    add_technician("Jan", "+32471000001", languages="nl")
    french = queued("+32470000001", 2, language="fr")
    dutch = queued("+32470000002", 4, language="nl")
    assert claim_next().callback_id == dutch.id
    assert db.session.get(Callback, french.id).status == "waiting"


def test_after_the_fallback_wait_anyone_may_take_it(app):
    add_technician("Marie", "+32471000002", languages="fr", state="on_call")
    jan = add_technician("Jan", "+32471000001", languages="nl")
    french = queued("+32470000001", 2, language="fr")
    assert claim_next() is None
    french.queued_at = utcnow() - timedelta(seconds=app.config["LANGUAGE_FALLBACK_SECONDS"] + 1)
    db.session.commit()
    attempt = claim_next()
    assert (attempt.callback_id, attempt.technician_id) == (french.id, jan.id)


def test_nobody_at_work_speaks_it_so_anyone_may_take_it_at_once(app):
    add_technician("Marie", "+32471000002", languages="fr", state="offline")
    jan = add_technician("Jan", "+32471000001", languages="nl")
    callback = queued("+32470000001", 3, language="fr")
    attempt = claim_next()
    assert (attempt.callback_id, attempt.technician_id) == (callback.id, jan.id)


def test_past_the_wait_a_speaker_is_still_preferred(app):
    jan = add_technician("Jan", "+32471000001", languages="nl")
    marie = add_technician("Marie", "+32471000002", languages="nl,fr")
    jan.state_since = utcnow() - timedelta(hours=1)
    db.session.commit()
    queued("+32470000001", 3, minutes_ago=60, language="fr")
    assert claim_next().technician_id == marie.id


def test_a_claim_passes_by_a_callback_another_transaction_is_changing(app):
    """FOR UPDATE SKIP LOCKED: a locked head (a webhook or a cancel at work on it) is not waited for (PostgreSQL)."""
    if not is_postgresql():
        pytest.skip("SKIP LOCKED is the PostgreSQL fast path")
    head = queued("+32470000001", 1)
    second = queued("+32470000002", 2)
    add_technician("Jan", "+32471000001")
    # Without SKIP LOCKED this claim would wait on the lock: fail fast instead of hanging.
    db.session.execute(sa.text("SET lock_timeout = '2s'"))
    with db.engine.connect() as other_transaction:
        other_transaction.execute(sa.text("SELECT id FROM callback WHERE id = :id FOR UPDATE"), {"id": head.id})
        attempt = claim_next()
        assert attempt.callback_id == second.id
        other_transaction.rollback()
    assert db.session.scalars(select(Callback.status).where(Callback.id == head.id)).one() == "waiting"
