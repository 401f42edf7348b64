"""The guard around every provider webhook: signature first, and never a 5xx.

An unsigned or forged request gets 403 and touches nothing. A signed request
whose handler fails (database down, Redis down, a bug) still gets valid TwiML
from ``on_error``, which must not need the database.
"""

import functools
import logging
from collections.abc import Callable

from flask import Response, abort
from twilio.twiml.voice_response import VoiceResponse

from app.extensions import db
from app.telephony import signature_is_valid
from ivr.twiml import answer

log = logging.getLogger(__name__)


def provider_webhook(on_error: Callable[[], VoiceResponse]):
    """Decorate a view that answers the provider with TwiML."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def guarded(*args, **kwargs) -> Response:
            if not signature_is_valid():
                abort(403)
            try:
                return view(*args, **kwargs)
            except Exception:
                log.exception("webhook %s failed; answering with the safe path", view.__name__)
                try:
                    db.session.rollback()
                except Exception:
                    log.exception("rollback failed too")
                return answer(_safely(on_error))

        return guarded

    return decorate


def _safely(on_error: Callable[[], VoiceResponse]) -> VoiceResponse:
    """The error answer itself may fail (a full disk, say): then a bare hang-up, still valid TwiML."""
    try:
        return on_error()
    except Exception:
        log.exception("the safe path failed as well")
        return hang_up()


def hang_up() -> VoiceResponse:
    """The safe answer to a status callback or a technician's leg: end politely."""
    twiml = VoiceResponse()
    twiml.hangup()
    return twiml
