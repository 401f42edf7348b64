"""RQ plumbing: the Redis connection and enqueueing that never breaks a caller's call.

Redis only carries triggers. If it is down, an enqueue is logged and dropped:
the cron reconciler finds the same work in SQL and does it a few seconds later.
"""

import logging
from contextlib import AbstractContextManager, nullcontext
from functools import cache

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, Retry

log = logging.getLogger(__name__)

#: Queue names in the order a worker should serve them.
QUEUES = ("dispatch", "notify")


def redis_connection() -> Redis:
    """One client (and connection pool) per app, created on first use."""
    connection = current_app.extensions.get("redis")
    if connection is None:
        connection = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        current_app.extensions["redis"] = connection
    return connection


def queue(name: str) -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue(queue_name: str, function: str, *args, retry: Retry | None = None) -> bool:
    """Enqueue ``function`` (a dotted path); False when Redis is unreachable."""
    try:
        queue(queue_name).enqueue(function, *args, retry=retry, result_ttl=300, failure_ttl=86400)
    except Exception:
        log.exception("could not enqueue %s on %s", function, queue_name)
        return False
    return True


@cache
def _worker_app() -> Flask:
    """A worker process builds the app once, from its environment."""
    from app import create_app

    return create_app()


def job_context() -> AbstractContextManager:
    """The app context a job runs in: the current one (tests, CLI) or the worker's own."""
    return nullcontext() if has_app_context() else _worker_app().app_context()
