"""Dispatch triggers: a burst of them queues one job, and none is lost once that job has started."""

from rq import Queue

from app.queueing import redis_connection
from callbacks import jobs, triggers


def queued_dispatch_jobs() -> int:
    return len(Queue("dispatch", connection=redis_connection()).get_job_ids())


def test_a_burst_of_triggers_queues_one_dispatch_job(app):
    for _ in range(5):
        assert jobs.trigger_dispatch()
    assert queued_dispatch_jobs() == 1


def test_a_trigger_after_the_job_started_queues_the_next(app):
    assert jobs.trigger_dispatch()
    jobs.dispatch()  # the queued job starts (here, in this process)
    assert jobs.trigger_dispatch()
    assert queued_dispatch_jobs() == 2


def test_a_queued_job_lost_before_it_started_stops_holding_triggers_back(app, redis):
    assert jobs.trigger_dispatch()
    assert 0 < redis.ttl(triggers.DISPATCH_QUEUED) <= triggers.DISPATCH_QUEUED_SECONDS
    redis.delete(Queue("dispatch", connection=redis).key)  # the job is gone, the marker is not
    redis.expire(triggers.DISPATCH_QUEUED, 0)  # ...until it expires
    assert jobs.trigger_dispatch()
    assert queued_dispatch_jobs() == 1


def test_with_redis_down_a_trigger_fails_quietly(app):
    app.extensions.pop("redis", None)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    assert jobs.trigger_dispatch() is False
