"""Periodic jobs for ``rq cron callbacks/cron.py`` (the Procfile's cron process)."""

from rq import cron

from callbacks.jobs import reconcile

#: The reconciler's period: stuck offers and finished wrap-ups move on within this.
RECONCILE_EVERY_SECONDS = 10

cron.register(reconcile, queue_name="dispatch", interval=RECONCILE_EVERY_SECONDS, job_timeout=120)
