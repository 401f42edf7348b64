"""The link to a caller's own callback page (/c/<token>, DESIGN §10): signed, unguessable, valid while the callback is.

The token signs the callback's id with ``SECRET_KEY``; whether the link still
works is the callback's own state (a final callback's link is no longer valid),
so nothing needs storing and nothing expires by the clock alone.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app import urls

SALT = "callback-page"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(callback_id: int) -> str:
    return _serializer().dumps(callback_id)


def callback_id_from(token: str) -> int | None:
    """The callback a token was made for; None for a forged, damaged or foreign token."""
    try:
        callback_id = _serializer().loads(token[:200])
    except BadSignature:
        return None
    return callback_id if isinstance(callback_id, int) else None


def link(callback_id: int) -> str:
    """What the caller's SMS carries."""
    return urls.callback_page(token_for(callback_id))
