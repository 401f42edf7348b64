"""Telling a customer we could not reach them: an SMS to a mobile, else a mail.

The notice is sent from its own RQ job (``callbacks.jobs.send_unreachable_notice``,
retried like every message). ``Callback.notice_sent_at`` records that it went;
the reconciler queues it again for an unreachable callback whose notice was
neither sent nor is still in Redis, so a flushed Redis loses no notice.
"""

import logging
from datetime import timedelta

from flask import current_app
from rq.job import Job
from sqlalchemy import select, update

from app import messages, notifications, phone
from app.clock import utcnow
from app.extensions import db
from app.models import Callback, CallbackStatus
from app.queueing import redis_connection
from app.tickets import ticket_store
from callbacks import triggers

log = logging.getLogger(__name__)

NO_WAY_TO_TELL = "No mobile number or mail address: the customer was not told that we could not reach them."

#: Notices older than this are not sent any more: a message days late confuses more than it helps.
NOTICE_WINDOW = timedelta(days=1)
#: A notice queued this recently is still on its way; the reconciler leaves it alone.
NOTICE_GRACE = timedelta(seconds=30)


def tell_unreachable(callback_id: int) -> str | None:
    """Send the notice now (raises when the provider or SMTP fails: the job retries).

    Returns how the customer was told, or None when they were told already or
    have neither a mobile number nor a mail address.
    """
    callback = db.session.get(Callback, callback_id, populate_existing=True)
    if callback is None or callback.status != CallbackStatus.UNREACHABLE or callback.notice_sent_at is not None:
        return None
    ticket = callback.ticket
    values = {
        "ticket": ticket.number,
        "title": ticket.title,
        "attempts": callback.attempts,
        "phone": phone.display(callback.phone),
        "desk": phone.display(current_app.config["DESK_NUMBER"]),
    }
    email = ticket.contact.email if ticket.contact is not None else None
    if phone.is_mobile(callback.phone):
        notifications.send_text(callback.phone, messages.text(callback.language, "unreachable_sms", **values))
        told = f"by SMS to {callback.phone}"
    elif email:
        subject = messages.text(callback.language, "unreachable_mail_subject", **values)
        notifications.send_mail(email, subject, messages.text(callback.language, "unreachable_mail_body", **values))
        told = f"by mail to {email}"
    else:
        told = None
    # Only the first sender records it; a duplicate job (should one slip through) adds no second note.
    marked = db.session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.notice_sent_at.is_(None))
        .values(notice_sent_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if marked:
        note = f"Customer told {told} that we could not reach them." if told else NO_WAY_TO_TELL
        ticket_store().add_note(ticket, note)
    return told


def requeue_lost() -> int:
    """Queue again the notices of unreachable callbacks that were neither sent nor are still in Redis."""
    now = utcnow()
    waiting_notice = db.session.scalars(
        select(Callback.id).where(
            Callback.status == CallbackStatus.UNREACHABLE,
            Callback.notice_sent_at.is_(None),
            Callback.ended_at > now - NOTICE_WINDOW,
            Callback.ended_at < now - NOTICE_GRACE,
        )
    ).all()
    if not waiting_notice:
        return 0
    connection = redis_connection()
    try:
        lost = [cid for cid in waiting_notice if not Job.exists(triggers.notice_job_id(cid), connection=connection)]
    except Exception:
        log.exception("Redis unreachable: unreachable notices are checked again on the next sweep")
        return 0
    for callback_id in lost:
        log.warning("unreachable notice of callback %s was lost in Redis; queueing it again", callback_id)
        triggers.queue_unreachable_notice(callback_id)
    return len(lost)
