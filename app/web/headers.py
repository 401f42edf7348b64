"""Security headers on every answer (flask-talisman): no framing, no sniffing, scripts from the desk only.

HTTPS itself is the TLS proxy's job (deploy/), so nothing is redirected here; HSTS and secure
cookies follow ``PUBLIC_BASE_URL``. htmx evaluates the board's polling condition
(``hx-trigger="every 2s [deskIdle(…)]"``) with ``Function``, hence ``'unsafe-eval'``; inline
scripts stay forbidden, which is what stops an injected ``<script>``.
"""

from flask import Flask
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": ["'self'", "'unsafe-eval'"],
    # htmx adds its indicator styles inline; the survey pages carry their own <style>.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}

talisman = Talisman()


def init_app(app: Flask) -> None:
    https = app.config["PUBLIC_BASE_URL"].startswith("https://")
    talisman.init_app(
        app,
        force_https=False,
        strict_transport_security=https,
        session_cookie_secure=https,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="same-origin",
    )
