"""Periodic jobs for ``rq cron callbacks.cron`` (the Procfile's cron process).

The engine's own sweep (the reconciler) and the sweeps of the rest of the desk
(survey mails, Autotask, retention) each run as their own job, so a slow SMTP
server or Autotask never holds up the reconciler.
"""

from rq import cron

from app.config import from_environment
from app.directory.autotask_phones import refresh_job
from app.directory.autotask_sync import sync_job as directory_sync_job
from app.report_rollup import rollup_job
from app.retention import purge_job
from app.surveys import resend_job
from app.tickets.autotask.follow import follow_job
from app.tickets.autotask.sync import sweep_job as autotask_sweep_job
from callbacks.jobs import reconcile

SETTINGS = from_environment()
#: The reconciler's period: stuck offers and finished wrap-ups move on within this.
RECONCILE_EVERY_SECONDS = SETTINGS["RECONCILE_SECONDS"]
#: Survey mails whose job was lost are queued again within this.
SURVEY_SWEEP_SECONDS = 60

cron.register(reconcile, queue_name="dispatch", interval=RECONCILE_EVERY_SECONDS, job_timeout=120)
cron.register(resend_job, queue_name="notify", interval=SURVEY_SWEEP_SECONDS, job_timeout=120)
# Finished desk days counted into the reports' rollup (and the last few counted again), hourly.
cron.register(rollup_job, queue_name="notify", cron="20 * * * *", job_timeout=1800)
if SETTINGS["RETENTION_DAYS"] > 0:
    # Personal data past the retention period: removed within the hour it falls due.
    cron.register(purge_job, queue_name="notify", cron="7 * * * *", job_timeout=1800)
if SETTINGS["TICKET_STORE"] == "autotask":
    # Tickets Autotask has not confirmed yet: one push sweep queued at a time.
    cron.register(autotask_sweep_job, queue_name="notify", interval=RECONCILE_EVERY_SECONDS, job_timeout=60)
    # Autotask keeps phone numbers as free text: rebuild the local index of normalised numbers nightly.
    cron.register(refresh_job, queue_name="notify", cron="15 3 * * *", job_timeout=1800)
    # Tickets changed or completed inside Autotask: read back the open ones.
    cron.register(follow_job, queue_name="notify", interval=SETTINGS["AUTOTASK_FOLLOW_SECONDS"], job_timeout=600)
    # Companies, contracts and contacts changed in Autotask: the directory follows, within its request budget.
    cron.register(
        directory_sync_job, queue_name="notify", interval=SETTINGS["AUTOTASK_DIRECTORY_SECONDS"], job_timeout=1800
    )
