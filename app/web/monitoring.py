"""Health and metrics for the people who run the desk: ``/healthz`` and ``/metrics``.

``/healthz`` answers 200 while the web process serves requests, with the state
of the database and Redis in its body. A desk whose database is down still
answers every caller (the safe path), so a load balancer must not take web
processes out for that; ``/healthz?strict=1`` answers 503 instead, for
monitors that read only the status code.

``/metrics`` is the Prometheus text format, read from the database and Redis at
each scrape (nothing is kept in the process, so any web process answers the
same): the queue by priority and its oldest due callback, technicians by state,
urgent calls in progress, today's volumes, rescued promises waiting on this
host's disk, and the RQ queues, workers and cron. It needs a manager's API
token, or ``METRICS_TOKEN`` when set (which works with the database down too).
"""

import hmac
import logging
import time
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from rq import Queue
from rq.cron import CronScheduler
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import func, select, text

from app.clock import day_start, utcnow
from app.extensions import db
from app.models import OPEN_URGENT_STATUSES, Callback, CallbackStatus, Role, Technician, TechnicianState, UrgentTransfer
from app.queueing import QUEUES, redis_connection, workers_per_queue
from app.redis_url import describe
from app.sql import rollback
from app.web import accounts
from app.web.errors import UNAVAILABLE
from app.web.figures import inbound_calls
from callbacks import rescue

log = logging.getLogger(__name__)

bp = Blueprint("monitoring", __name__)

PRIORITIES = (1, 2, 3, 4)
PREFIX = "callback_desk"


# --- /healthz ---------------------------------------------------------------------------------------


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    services = {"database": _database_state(), "redis": _redis_state()}
    healthy = all(state == "ok" for state in services.values())
    body = {"status": "ok" if healthy else "degraded", **services}
    strict = request.args.get("strict") in ("1", "true", "yes")
    return jsonify(body), 200 if healthy or not strict else 503


def _database_state() -> str:
    """ "ok" or "down": the page is public, so why (hosts, ports, drivers) goes to the log only."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as error:
        rollback()
        log.warning("healthz: the database is down: %s", type(error).__name__)
        return "down"
    return "ok"


def _redis_state() -> str:
    try:
        redis_connection().ping()
    except Exception as error:
        log.warning("healthz: Redis is down: %s", describe(error))
        return "down"
    return "ok"


# --- /metrics ---------------------------------------------------------------------------------------


@bp.get("/metrics")
def metrics() -> Response:
    if not _may_scrape():
        response = Response("A manager's API token or METRICS_TOKEN: Authorization: Bearer <token>\n", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="callback-desk"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector())
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")


def _may_scrape() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    configured = current_app.config["METRICS_TOKEN"]
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        return True
    # With the database down this raises, and the scrape gets 503 (app/errors.py): set METRICS_TOKEN to see it.
    user = accounts.user_for_token(token)
    return user is not None and user.role == Role.MANAGER


def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=list(labels))


class DeskCollector:
    """Every figure read at the moment of the scrape; a service that does not answer reports up = 0."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        database_up = gauge("database_up", "1 when the database answered this scrape")
        try:
            yield from self._from_database()
            database_up.add_metric([], 1)
        except UNAVAILABLE as error:
            rollback()
            log.warning("metrics: the database does not answer (%s)", type(error).__name__)
            database_up.add_metric([], 0)
        yield database_up
        redis_up = gauge("redis_up", "1 when Redis answered this scrape")
        try:
            yield from self._from_redis()
            redis_up.add_metric([], 1)
        except UNAVAILABLE as error:
            log.warning("metrics: Redis does not answer (%s)", describe(error))
            redis_up.add_metric([], 0)
        yield redis_up
        spool = gauge("rescued_promises_on_disk", "Callback promises from the safe path not yet taken (this host)")
        spool.add_metric([], rescue.pending_on_disk())
        yield spool
        took = gauge("scrape_seconds", "How long this scrape took to read its figures")
        took.add_metric([], time.perf_counter() - started)
        yield took

    def _from_database(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        by_status = dict(
            db.session.execute(
                select(Callback.status, func.count())
                .where(Callback.status.in_((CallbackStatus.OFFERED, CallbackStatus.IN_PROGRESS)))
                .group_by(Callback.status)
            ).all()
        )
        waiting = dict.fromkeys(PRIORITIES, 0)
        waiting.update(
            db.session.execute(
                select(Callback.priority, func.count())
                .where(Callback.status == CallbackStatus.WAITING)
                .group_by(Callback.priority)
            ).all()
        )
        due = dict.fromkeys(PRIORITIES, 0)
        oldest: dict[int, float] = {}
        rows = db.session.execute(
            select(Callback.priority, func.count(), func.min(Callback.queued_at))
            .where(Callback.status == CallbackStatus.WAITING, Callback.due_at <= now)
            .group_by(Callback.priority)
        ).all()
        for priority, count, first_queued in rows:
            due[priority] = count
            oldest[priority] = (now - first_queued).total_seconds()
        family = gauge(
            "callbacks_waiting", "Callbacks waiting, by priority (retries not yet due included)", ("priority",)
        )
        for priority, count in sorted(waiting.items()):
            family.add_metric([str(priority)], count)
        yield family
        family = gauge("callbacks_due", "Waiting callbacks that may be offered now, by priority", ("priority",))
        for priority, count in sorted(due.items()):
            family.add_metric([str(priority)], count)
        yield family
        family = gauge(
            "oldest_due_callback_seconds",
            "Time since the longest-waiting due callback first joined the queue, by priority (0: none)",
            ("priority",),
        )
        for priority in PRIORITIES:
            family.add_metric([str(priority)], max(oldest.get(priority, 0.0), 0.0))
        yield family
        family = gauge("callbacks_active", "Callbacks being offered or in progress", ("status",))
        for status in (CallbackStatus.OFFERED, CallbackStatus.IN_PROGRESS):
            family.add_metric([str(status)], by_status.get(status, 0))
        yield family

        states = dict(db.session.execute(select(Technician.state, func.count()).group_by(Technician.state)).all())
        family = gauge("technicians", "Technicians by state", ("state",))
        for state in TechnicianState:
            family.add_metric([str(state)], states.get(state, 0))
        yield family

        urgent = db.session.scalar(
            select(func.count()).select_from(UrgentTransfer).where(UrgentTransfer.status.in_(OPEN_URGENT_STATUSES))
        )
        family = gauge("urgent_calls_open", "Urgent calls ringing technicians, the on-call number, or connected")
        family.add_metric([], urgent)
        yield family

        since = day_start(now)
        ended = dict(
            db.session.execute(
                select(Callback.status, func.count()).where(Callback.ended_at >= since).group_by(Callback.status)
            ).all()
        )
        family = gauge(
            "callbacks_ended_today", "Callbacks that ended today (Europe/Brussels), by final state", ("status",)
        )
        for status in (CallbackStatus.COMPLETED, CallbackStatus.UNREACHABLE, CallbackStatus.CANCELLED):
            family.add_metric([str(status)], ended.get(status, 0))
        yield family
        family = gauge("callbacks_queued_today", "Callbacks that joined the queue today")
        family.add_metric([], db.session.scalar(select(func.count()).where(Callback.queued_at >= since)))
        yield family
        calls_ended, abandoned = inbound_calls(since)
        family = gauge("calls_ended_today", "Inbound calls that ended today")
        family.add_metric([], calls_ended)
        yield family
        family = gauge("calls_abandoned_today", "Inbound calls that ended today before the IVR settled them")
        family.add_metric([], abandoned)
        yield family
        db.session.rollback()

    def _from_redis(self) -> Iterator[GaugeMetricFamily]:
        connection = redis_connection()
        queued = gauge("rq_jobs", "RQ jobs by queue and state", ("queue", "state"))
        workers = gauge("rq_workers", "RQ workers serving each queue", ("queue",))
        serving = workers_per_queue(connection)
        for name in QUEUES:
            queue = Queue(name, connection=connection)
            queued.add_metric([name, "queued"], queue.count)
            queued.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
            queued.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
            workers.add_metric([name], serving[name])
        yield queued
        yield workers
        cron = gauge("rq_cron_schedulers", "rq cron processes running (there should be exactly one)")
        cron.add_metric([], len(CronScheduler.all(connection)))
        yield cron
