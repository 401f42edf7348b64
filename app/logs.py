"""Logs for people: one readable line per event (a call, a ticket, an offer, an attempt, an error), printed once.

The events themselves are logged where they happen, at INFO; periodic jobs log
only when they did something. RQ's worker and cron print their own lines
through their own handler, and the Procfile runs them quiet (warnings only).
"""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure() -> None:
    """Send the desk's lines to stderr once, whichever process this is."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=FORMAT)
    # RQ prints through a handler of its own; passed on to ours as well, each of its lines would print twice.
    logging.getLogger("rq").propagate = False
    # The REST client logs every request and its headers at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
