"""RQ jobs of the engine: plain functions that open their own app context.

Every job is idempotent: running one twice, or two at once, changes nothing
more than running it once.
"""

from app.extensions import db
from app.queueing import job_context
from callbacks import dispatch as dispatching
from callbacks import notices, reconciler, rescue, technicians, triggers


def dispatch() -> int:
    """Offer waiting callbacks to free technicians."""
    with job_context():
        triggers.dispatch_started()
        return dispatching.dispatch()


def end_wrap_up(technician_id: int) -> int:
    """The wrap-up timer went off: the technician is available, so dispatch."""
    with job_context():
        ended = technicians.end_wrap_up(technician_id)
        db.session.commit()
        return dispatching.dispatch() if ended else 0


def send_unreachable_notice(callback_id: int) -> str | None:
    """Tell the customer we could not reach them (retried by RQ when sending fails)."""
    with job_context():
        return notices.tell_unreachable(callback_id)


def reconcile() -> dict[str, int]:
    """The cron sweep; see callbacks.reconciler."""
    with job_context():
        return reconciler.reconcile()


def take_rescued_call(record: dict) -> None:
    """Keep the promise made to a caller whose call hit a technical problem."""
    with job_context():
        rescue.take_or_spool(record)


def trigger_dispatch() -> bool:
    """Ask a worker to dispatch; harmless when one is already at it."""
    return triggers.dispatch_now()
