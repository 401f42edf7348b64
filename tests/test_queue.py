from datetime import timedelta

from sqlalchemy import true

from app.clock import utcnow
from app.directory.contracts import includes_onsite, includes_out_of_hours
from app.extensions import db
from app.models import Callback, CallbackStatus
from app.tickets.sql import SqlTicketStore
from callbacks import lifecycle
from callbacks.queue import due_candidates_statement, position, queue_callback, reprioritise, waiting


def queued(number: str, priority: int, minutes_ago: int = 0) -> Callback:
    ticket = SqlTicketStore().create(title=f"problem of {number}", priority=priority)
    callback, created = queue_callback(ticket, number, priority, "en")
    assert created
    callback.queued_at = utcnow() - timedelta(minutes=minutes_ago)
    callback.due_at = callback.queued_at
    db.session.commit()
    return callback


def first_due() -> int | None:
    """The first callback a dispatcher may offer now (a retry waits until it is due)."""
    return db.session.scalar(due_candidates_statement(true(), [], 1))


def test_waiting_callbacks_are_ordered_by_priority_then_first_come(app):
    late_p2 = queued("+32470000011", 2, minutes_ago=1)
    early_p3 = queued("+32470000012", 3, minutes_ago=30)
    early_p2 = queued("+32470000013", 2, minutes_ago=20)
    p1 = queued("+32470000014", 1, minutes_ago=0)
    assert [c.id for c in waiting()] == [p1.id, early_p2.id, late_p2.id, early_p3.id]
    assert [position(c) for c in (p1, early_p2, late_p2, early_p3)] == [1, 2, 3, 4]


def test_a_retry_keeps_its_place_but_waits_until_it_is_due(app):
    first = queued("+32470000021", 3, minutes_ago=30)
    second = queued("+32470000022", 3, minutes_ago=10)
    assert lifecycle.offer(first.id, technician_id=None)
    assert lifecycle.start(first.id)
    assert lifecycle.return_to_queue(first.id, retry_after_seconds=600, count_attempt=True)
    db.session.commit()
    db.session.refresh(first)
    assert first.status == CallbackStatus.WAITING and first.attempts == 1
    assert position(first) == 1 and position(second) == 2
    # Not due yet: the next one offered is the second caller.
    assert first_due() == second.id
    first.due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert first_due() == first.id


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
