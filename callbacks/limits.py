"""What one number may ask of the desk (DESIGN §11): the callback-number policy and the caps.

Every callback and every SMS costs the desk money and a technician's time, so a number the
desk calls or texts must be an ordinary fixed or mobile number of an allowed country
(``CALLBACK_COUNTRIES``); one number opens at most ``CALLS_PER_HOUR`` tickets an hour, and
is put through live (every free technician rung) at most once per
``URGENT_COOLDOWN_MINUTES``. The counts come from the database, so they hold across web
processes and hosts and survive a flushed Redis.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from app import phone
from app.clock import utcnow
from app.extensions import db
from app.models import Callback, Ticket, UrgentTransfer


def callback_refusal(number: str) -> str | None:
    """Why ``number`` may not be called back or texted (``"country"``, ``"premium_rate"``…), or None."""
    return phone.refusal(number, current_app.config["CALLBACK_COUNTRIES"])


def may_call_back(number: str | None) -> bool:
    return number is not None and callback_refusal(number) is None


def tickets_in_the_last_hour(number: str) -> int:
    """Tickets opened by this number, or whose callback goes to it, in the last hour."""
    since = utcnow() - timedelta(hours=1)
    called_back = select(Callback.ticket_id).where(Callback.phone == number, Callback.queued_at >= since)
    return db.session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.created_at >= since, or_(Ticket.caller_phone == number, Ticket.id.in_(called_back)))
    )


def over_ticket_limit(number: str | None) -> bool:
    """This number has opened its share of tickets for the hour."""
    return number is not None and tickets_in_the_last_hour(number) >= current_app.config["CALLS_PER_HOUR"]


def urgent_cooling_down(number: str | None, call_sid: str) -> bool:
    """This number was put through live within the cooldown: this time it gets a P1 callback.

    The call's own transfer does not count, so a replayed webhook is answered as the first time.
    """
    if number is None:
        return False
    since = utcnow() - timedelta(minutes=current_app.config["URGENT_COOLDOWN_MINUTES"])
    recent = select(UrgentTransfer.id).where(
        UrgentTransfer.phone == number, UrgentTransfer.started_at >= since, UrgentTransfer.call_sid != call_sid
    )
    return db.session.scalars(recent.limit(1)).first() is not None
