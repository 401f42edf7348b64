"""RQ plumbing: the Redis connection and enqueueing that never breaks a caller's call.

Redis only carries triggers. If it is down, an enqueue is logged and dropped:
the cron reconciler finds the same work in SQL and does it a few seconds later.
"""

import logging
from contextlib import AbstractContextManager, nullcontext
from functools import cache

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, Retry, Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.utils import current_timestamp

from app.redis_url import connect

log = logging.getLogger(__name__)

#: Queue names in the order a worker should serve them.
QUEUES = ("dispatch", "notify")
#: How long RQ keeps a job's result (5 minutes) and a failed job (a day, to look at) in Redis.
JOB_TTL = {"result_ttl": 300, "failure_ttl": 86400}
#: A scheduled job this late means no RQ scheduler runs: it dies with a worker's Redis
#: connection and comes back only at the worker's maintenance interval (ten minutes).
OVERDUE_SECONDS = 30


def redis_connection() -> Redis:
    """One client (and connection pool) per app, created on first use."""
    connection = current_app.extensions.get("redis")
    if connection is None:
        seconds = current_app.config["REDIS_SOCKET_TIMEOUT_SECONDS"]
        connection = connect(current_app.config["REDIS_URL"], socket_connect_timeout=seconds, socket_timeout=seconds)
        current_app.extensions["redis"] = connection
    return connection


def queue(name: str) -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue(queue_name: str, function: str, *args, retry: Retry | None = None) -> bool:
    """Enqueue ``function`` (a dotted path); False when Redis is unreachable."""
    try:
        queue(queue_name).enqueue(function, *args, retry=retry, **JOB_TTL)
    except Exception:
        log.exception("could not enqueue %s on %s", function, queue_name)
        return False
    return True


def workers_per_queue(connection: Redis) -> dict[str, int]:
    """How many registered RQ workers serve each of the desk's queues (for check and /metrics)."""
    serving = dict.fromkeys(QUEUES, 0)
    for worker in Worker.all(connection=connection):
        for name in worker.queue_names():
            if name in serving:
                serving[name] += 1
    return serving


def enqueue_overdue() -> int:
    """Queue scheduled jobs (retries, timers) overdue by ``OVERDUE_SECONDS``; how many.

    Normally each worker's RQ scheduler moves a scheduled job to its queue when
    it falls due. After a Redis restart that scheduler is gone for minutes; the
    reconciler calls this so retries and timers wait one sweep, not ten
    minutes. Whoever removes a job from the schedule (an atomic ZREM) queues it,
    and every job of the desk is idempotent besides.
    """
    connection = redis_connection()
    queued = 0
    for name in QUEUES:
        registry = ScheduledJobRegistry(name, connection=connection)
        job_ids = registry.get_jobs_to_schedule(current_timestamp() - OVERDUE_SECONDS)
        if not job_ids:
            continue
        target = Queue(name, connection=connection)
        for job in Job.fetch_many(job_ids, connection=connection):
            if job is not None and connection.zrem(registry.key, job.id):
                target.enqueue_job(job, at_front=job.should_enqueue_at_front())
                queued += 1
    if queued:
        log.warning("%s scheduled jobs were overdue (no RQ scheduler running): queued", queued)
    return queued


@cache
def _worker_app() -> Flask:
    """A worker process builds the app once, from its environment."""
    from app import create_app

    return create_app()


def job_context() -> AbstractContextManager:
    """The app context a job runs in: the current one (tests, CLI) or the worker's own."""
    return nullcontext() if has_app_context() else _worker_app().app_context()
