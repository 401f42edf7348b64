"""RQ jobs: plain functions that open their own app context.

A worker process builds the app once (from the environment) and reuses it.
When a job runs inside an existing app context (tests, the CLI) it uses that.
"""

from contextlib import AbstractContextManager, nullcontext
from functools import cache

from flask import Flask, has_app_context

from app import create_app
from app.queueing import enqueue
from callbacks import dispatch as dispatching
from callbacks import reconciler, rescue


@cache
def _worker_app() -> Flask:
    return create_app()


def _app_context() -> AbstractContextManager:
    return nullcontext() if has_app_context() else _worker_app().app_context()


def dispatch() -> int:
    """Offer waiting callbacks to free technicians."""
    with _app_context():
        return dispatching.dispatch()


def reconcile() -> dict[str, int]:
    """The cron sweep; see callbacks.reconciler."""
    with _app_context():
        return reconciler.reconcile()


def take_rescued_call(record: dict) -> None:
    """Keep the promise made to a caller whose call hit a technical problem."""
    with _app_context():
        rescue.take(record)


def trigger_dispatch() -> bool:
    """Ask a worker to dispatch; harmless when one is already at it."""
    return enqueue("dispatch", "callbacks.jobs.dispatch")
