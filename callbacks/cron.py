"""Periodic jobs for ``rq cron callbacks.cron`` (the Procfile's cron process)."""

from rq import cron

from app.config import from_environment
from callbacks.jobs import reconcile

#: The reconciler's period: stuck offers and finished wrap-ups move on within this.
RECONCILE_EVERY_SECONDS = from_environment()["RECONCILE_SECONDS"]

cron.register(reconcile, queue_name="dispatch", interval=RECONCILE_EVERY_SECONDS, job_timeout=120)
