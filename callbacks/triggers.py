"""Triggers: RQ jobs that make the engine act now or at a given moment.

A trigger is only a nudge. Losing one (Redis down or flushed) delays the work
until the reconciler's next sweep, which finds the same work in SQL; running
one twice is harmless because every job is idempotent.
"""

import logging
from datetime import timedelta

from rq.exceptions import DuplicateJobError

from app.notifications import SEND_RETRY
from app.queueing import JOB_TTL, enqueue, queue, redis_connection

log = logging.getLogger(__name__)

#: Set while a dispatch job waits in the queue; it expires in case that job is lost before it starts.
DISPATCH_QUEUED = "callbacks:dispatch-queued"
DISPATCH_QUEUED_SECONDS = 30


def dispatch_now() -> bool:
    """Ask a worker to dispatch, unless a dispatch job is already queued and has not started.

    A job that starts later claims whatever is free by then, so triggers that come
    while one waits in the queue add nothing; one that comes after it started
    queues the next. (Every queued callback and freed technician triggers, so in
    a rush most jobs would otherwise find nothing left to claim.)
    """
    try:
        if not redis_connection().set(DISPATCH_QUEUED, 1, nx=True, ex=DISPATCH_QUEUED_SECONDS):
            return True
    except Exception:
        log.exception("Redis unreachable: the reconciler dispatches on its next sweep")
        return False
    if enqueue("dispatch", "callbacks.jobs.dispatch"):
        return True
    dispatch_started()  # nothing was queued: let the next trigger try
    return False


def dispatch_started() -> None:
    """A dispatch job has started: from now on a trigger queues another one."""
    try:
        redis_connection().delete(DISPATCH_QUEUED)
    except Exception:
        log.exception("Redis unreachable: the marker of a queued dispatch expires by itself")


def _schedule(seconds: float, function: str, *args) -> bool:
    """Run ``function`` in ``seconds`` (the worker's scheduler, about one second precise)."""
    try:
        if seconds <= 0:
            queue("dispatch").enqueue(function, *args, **JOB_TTL)
        else:
            queue("dispatch").enqueue_in(timedelta(seconds=seconds), function, *args, **JOB_TTL)
    except Exception:
        log.exception("could not schedule %s in %s s", function, seconds)
        return False
    return True


def dispatch_in(seconds: float) -> bool:
    """Dispatch when a retry falls due, so it is not left for the next sweep."""
    return _schedule(seconds, "callbacks.jobs.dispatch")


def end_wrap_up_in(technician_id: int, seconds: float) -> bool:
    """The wrap-up timer: make the technician available when their wrap-up is over."""
    return _schedule(seconds, "callbacks.jobs.end_wrap_up", technician_id)


def notice_job_id(callback_id: int) -> str:
    return f"unreachable-notice-{callback_id}"


def queue_unreachable_notice(callback_id: int) -> bool:
    """Queue the "we tried to reach you" message once: the job id is the callback's.

    The fixed id lets the reconciler see whether the job is still in Redis
    (queued, retrying or failed) and queue it again only when it was lost.
    """
    try:
        queue("notify").enqueue(
            "callbacks.jobs.send_unreachable_notice",
            callback_id,
            job_id=notice_job_id(callback_id),
            unique=True,
            retry=SEND_RETRY,
            **JOB_TTL,
        )
    except DuplicateJobError:
        return True
    except Exception:
        log.exception("could not queue the unreachable notice of callback %s", callback_id)
        return False
    return True
