"""RQ jobs of the engine: plain functions that open their own app context."""

from app.queueing import enqueue, job_context
from callbacks import dispatch as dispatching
from callbacks import reconciler, rescue


def dispatch() -> int:
    """Offer waiting callbacks to free technicians."""
    with job_context():
        return dispatching.dispatch()


def reconcile() -> dict[str, int]:
    """The cron sweep; see callbacks.reconciler."""
    with job_context():
        return reconciler.reconcile()


def take_rescued_call(record: dict) -> None:
    """Keep the promise made to a caller whose call hit a technical problem."""
    with job_context():
        rescue.take(record)


def trigger_dispatch() -> bool:
    """Ask a worker to dispatch; harmless when one is already at it."""
    return enqueue("dispatch", "callbacks.jobs.dispatch")
