"""The queue: priority then first come, a retry's place, one caller one callback, moving up,
aging, and the match of a callback's language with a free technician's."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select, true

from app.clock import utcnow
from app.directory.contracts import includes_onsite, includes_out_of_hours
from app.extensions import db
from app.models import Callback, CallbackStatus
from app.sql import is_postgresql
from app.tickets.sql import SqlTicketStore
from callbacks import lifecycle
from callbacks.queue import due_candidates_statement, position, queue_callback, reprioritise, waiting
from tests.helpers import add_technician, claim_next


def queued(number: str, priority: int, minutes_ago: float = 0, language: str = "en") -> Callback:
    ticket = SqlTicketStore().create(title=f"problem of {number}", priority=priority)
    callback, created = queue_callback(ticket, number, priority, language)
    assert created
    callback.queued_at = callback.due_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return callback


def first_due() -> int | None:
    """The first callback a dispatcher may offer now (a retry waits until it is due)."""
    return db.session.scalar(due_candidates_statement(true(), [], 1))


def claimed_in_order(count: int) -> list[int]:
    """Claim ``count`` callbacks with one free technician at a time; their ids in claim order."""
    order = []
    for i in range(count):
        add_technician(f"Tech {i}", f"+3247100{i:04d}", languages="nl,fr,en")
        attempt = claim_next()
        order.append(attempt.callback_id)
    return order


def test_callbacks_are_ordered_and_claimed_by_priority_then_first_come(app):
    late_p2 = queued("+32470000011", 2, minutes_ago=1)
    early_p3 = queued("+32470000012", 3, minutes_ago=30)
    early_p2 = queued("+32470000013", 2, minutes_ago=20)
    p1 = queued("+32470000014", 1, minutes_ago=0)
    expected = [p1.id, early_p2.id, late_p2.id, early_p3.id]
    assert [c.id for c in waiting()] == expected
    assert [position(c) for c in (p1, early_p2, late_p2, early_p3)] == [1, 2, 3, 4]
    assert claimed_in_order(4) == expected


def test_a_retry_keeps_its_place_and_is_offered_again_once_its_interval_has_passed(app):
    first = queued("+32470000021", 3, minutes_ago=30)
    second = queued("+32470000022", 3, minutes_ago=10)
    assert lifecycle.offer(first.id, technician_id=None)
    assert lifecycle.start(first.id)
    assert lifecycle.return_to_queue(first.id, retry_after_seconds=600, count_attempt=True)
    db.session.commit()
    db.session.refresh(first)
    assert first.status == CallbackStatus.WAITING and first.attempts == 1
    assert position(first) == 1 and position(second) == 2
    # Not due yet: the next one offered is the second caller, while the retry keeps position 1.
    assert first_due() == second.id
    add_technician("Jan", "+32471000001")
    assert claim_next().callback_id == second.id
    assert position(db.session.get(Callback, first.id)) == 1
    first.due_at = utcnow() - timedelta(seconds=1)
    third = queued("+32470000023", 3, minutes_ago=5)
    db.session.commit()
    assert first_due() == first.id
    add_technician("Marie", "+32471000002")
    assert claim_next().callback_id == first.id
    assert db.session.get(Callback, third.id).status == "waiting"


def test_one_caller_gets_one_callback_and_may_only_move_up(app):
    original = queued("+32470000031", 4, minutes_ago=15)
    other_ticket = SqlTicketStore().create(title="again", priority=2)
    again, created = queue_callback(other_ticket, "+32470000031", 2, "en")
    assert not created and again.id == original.id
    assert again.priority == 2 and again.queued_at == original.queued_at
    lower, _ = queue_callback(other_ticket, "+32470000031", 4, "en")
    assert lower.priority == 2
    assert len(waiting()) == 1


def test_a_finished_callback_does_not_block_a_new_one(app):
    done = queued("+32470000041", 3)
    assert lifecycle.cancel(done.id)
    db.session.commit()
    ticket = SqlTicketStore().create(title="new problem", priority=3)
    fresh, created = queue_callback(ticket, "+32470000041", 3, "en")
    assert created and fresh.id != done.id


def test_a_manager_can_move_a_callback_up_without_losing_its_first_queued_time(app):
    early = queued("+32470000051", 3, minutes_ago=20)
    late = queued("+32470000052", 3, minutes_ago=5)
    assert reprioritise(late.id, 1)
    db.session.commit()
    db.session.refresh(late)
    assert [c.id for c in waiting()] == [late.id, early.id]
    assert late.queued_at < utcnow()
    assert lifecycle.cancel(early.id)
    db.session.commit()
    assert not reprioritise(early.id, 1)


def test_contracts_say_what_they_include():
    assert includes_onsite("wise") and includes_onsite("magic") and not includes_onsite("basic")
    assert includes_out_of_hours("magic") and not includes_out_of_hours("wise") and not includes_out_of_hours(None)


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
