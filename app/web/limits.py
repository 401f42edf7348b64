"""Rate limits on what anyone on the internet can ask of the desk (flask-limiter, counted in Redis).

One limiter for the whole app, set up here; a page applies a limit with ``limiter.limit(…)``
and names its limit in app/config.py. Counters live in the desk's Redis (the same client
and timeouts as RQ), so every web process and host shares them. When Redis does not answer,
limits fall back to each process's memory rather than refuse everyone: a stalled Redis
must not lock managers out nor slow the workers that answer the provider.
"""

import time

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from app.queueing import redis_connection

limiter = Limiter(
    get_remote_address,
    strategy="fixed-window",
    swallow_errors=True,
    in_memory_fallback_enabled=True,
    key_prefix="callback-desk-limits",
    headers_enabled=True,
)


def init_app(app: Flask) -> None:
    """Count in the desk's Redis (any REDIS_URL, Sentinel included) with its socket timeouts."""
    with app.app_context():
        pool = redis_connection().connection_pool
    app.config.update(
        RATELIMIT_STORAGE_URI="redis://",
        RATELIMIT_STORAGE_OPTIONS={"connection_pool": pool},
    )
    limiter.init_app(app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"])


def login_username() -> str:
    """The per-user key of a login attempt: the name typed, as accounts store it."""
    return "user:" + request.form.get("username", "").strip().lower()[:80]


def login_per_user() -> str:
    return current_app.config["LOGIN_LIMIT_PER_USER"]


def login_per_address() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def failed(response: Response) -> bool:
    """Only failed attempts count: a manager who logs in does not use up their own limit."""
    return response.status_code == 401


def caller_page() -> str:
    return current_app.config["CALLER_PAGE_LIMIT"]


def retry_after(limit: RequestLimit) -> int:
    """Seconds until the window of the limit that was reached ends."""
    return max(int(limit.reset_at - time.time()), 1)


def too_many(limit: RequestLimit) -> Response:
    """429 saying when to try again (the window of the limit that was reached)."""
    seconds = retry_after(limit)
    page = render_template("too_many.html", minutes=max(round(seconds / 60), 1))
    return Response(page, status=429, headers={"Retry-After": str(seconds)})
