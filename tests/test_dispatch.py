"""Claims are atomic: never two technicians on one callback, never two callbacks for one technician."""

import multiprocessing
import os
from datetime import timedelta

from sqlalchemy import select

from app import create_app
from app.clock import utcnow
from app.extensions import db
from app.models import Callback, CallbackAttempt, Technician
from app.tickets.sql import SqlTicketStore
from callbacks import dispatch as dispatching
from callbacks.queue import queue_callback
from tests.helpers import add_technician, claim_next


def queue_many(count: int, priority_of=lambda i: 1 + i % 4) -> list[Callback]:
    callbacks = []
    for i in range(count):
        ticket = SqlTicketStore().create(title=f"problem {i}", priority=priority_of(i))
        callback, _ = queue_callback(ticket, f"+3247{i:07d}", priority_of(i), "en")
        callbacks.append(callback)
    return callbacks


def test_the_first_callback_goes_to_the_longest_idle_technician(app):
    queue_many(3, priority_of=lambda i: [3, 2, 3][i])
    recent = add_technician("Recent", "+32470000001")
    idle = add_technician("Idle", "+32470000002")
    idle.state_since = utcnow() - timedelta(minutes=10)
    db.session.commit()
    attempt = claim_next()
    assert attempt.technician_id == idle.id
    assert attempt.callback.priority == 2
    assert (attempt.callback.status, attempt.technician.state) == ("offered", "offered")
    second = claim_next()
    assert second.technician_id == recent.id and second.callback.priority == 3
    assert claim_next() is None


def test_nobody_free_means_no_claim(app):
    queue_many(2)
    add_technician("Away", "+32470000001", state="away")
    assert claim_next() is None
    assert {c.status for c in db.session.scalars(select(Callback))} == {"waiting"}


def test_a_provider_failure_undoes_the_claim(app):
    app.config["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1"
    queue_many(1)
    technician = add_technician("Jan", "+32470000001")
    assert dispatching.dispatch() == 0
    db.session.expire_all()
    assert db.session.scalars(select(Callback)).one().status == "waiting"
    assert db.session.get(Technician, technician.id).state == "available"
    assert db.session.scalars(select(CallbackAttempt)).one().outcome == "not_rung"


def claim_all(environment: dict, results) -> None:
    """One worker process: claim until nothing is left."""
    os.environ.update(environment)
    app = create_app()
    with app.app_context():
        while (attempt := claim_next()) is not None:
            results.put((attempt.callback_id, attempt.technician_id))
        db.engine.dispose()


def test_concurrent_dispatchers_never_share_a_callback_or_a_technician(app):
    callbacks = queue_many(60)
    for i in range(25):
        add_technician(f"Tech {i}", f"+3247100{i:04d}")
    environment = {key: value for key, value in os.environ.items() if key.isupper()}
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=claim_all, args=(environment, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    claims = [results.get(timeout=5) for _ in range(results.qsize())]
    db.session.expire_all()
    attempts = db.session.scalars(select(CallbackAttempt)).all()
    assert len(attempts) == 25 == len(claims)
    assert len({a.callback_id for a in attempts}) == 25
    assert len({a.technician_id for a in attempts}) == 25
    offered = db.session.scalars(select(Callback).where(Callback.status == "offered")).all()
    assert {c.id for c in offered} == {a.callback_id for a in attempts}
    # Strict order: the 25 claimed are the first 25 in the queue.
    expected = sorted(callbacks, key=lambda c: (c.priority, c.queued_at, c.id))[:25]
    assert {c.id for c in expected} == {a.callback_id for a in attempts}
