"""Messages to customers: SMS through the provider, mail over SMTP.

Both are sent from RQ jobs on the ``notify`` queue with retries, so a slow
SMTP server or provider never holds up a call or a dispatch. The send
functions themselves are synchronous and raise on failure (the job retries).
"""

import logging
import re
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from rq import Retry, get_current_job
from twilio.rest import Client

from app import phone, telephony
from app.queueing import enqueue

log = logging.getLogger(__name__)

#: Retries of a failed send: after 30 s, 2 min, 10 min, 30 min.
SEND_RETRY = Retry(max=4, interval=[30, 120, 600, 1800])
#: Where a job keeps the moment its first run began sending (job.meta survives retries).
FIRST_RUN = "first_send_run"
#: Clock difference allowed between the provider's stamps and ours.
CLOCK_SLACK = timedelta(seconds=60)
#: Newest messages to a number read from the provider's log before a second try.
LOG_DEPTH = 20
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 ]{1,11}")


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Send one mail now (plain text, with an HTML alternative when given)."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if not config["SMTP_HOST"]:
        log.warning("SMTP_HOST not set: mail to %s not sent (%s)", to, subject)
        return
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=15) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)
    log.info("mail to %s sent: %s", to, subject)


def send_text(to: str, body: str) -> None:
    """Send one SMS now; raises when the provider refuses or does not answer (the job retries).

    A provider slower than our REST timeout may have sent the message all the
    same. So a job's second run (a retry, or the job run again after its worker
    died) first reads the provider's log: a message with this body to this
    number since the first run means the customer has it, and nothing is sent
    again.
    """
    client = telephony.rest_client()
    sender = current_app.config["SMS_FROM"]
    first_run = _earlier_run()
    if first_run is not None and _sent_since(client, to, sender, body, first_run):
        log.info("SMS to %s was sent by an earlier try whose answer was lost: not sent again", to)
        return
    # From takes a number, an alphanumeric sender ID or a Messaging Service SID alike
    # (https://twilio.com/docs/errors/21603).
    client.messages.create(to=to, from_=sender, body=body)
    log.info("SMS to %s sent", to)


def _earlier_run() -> datetime | None:
    """When the current job first ran this far; None on its first run, or outside a job."""
    job = get_current_job()
    if job is None:
        return None
    first = job.meta.get(FIRST_RUN)
    if first is not None:
        return datetime.fromisoformat(first)
    job.meta[FIRST_RUN] = datetime.now(UTC).isoformat()
    job.save_meta()  # before sending: a run that dies after the provider took the message still left it
    return None


def _sent_since(client: Client, to: str, sender: str, body: str, since: datetime) -> bool:
    """Whether the provider's log (newest first) holds ``body`` sent by the desk to ``to`` since ``since``."""
    # A Messaging Service sends from one of its own senders, so its log is not searchable by that SID.
    by_sender = {} if is_messaging_service(sender) else {"from_": sender}
    for message in client.messages.list(to=to, limit=LOG_DEPTH, **by_sender):
        if message.date_created is not None and message.date_created < since - CLOCK_SLACK:
            return False
        if message.body == body:
            return True
    return False


def queue_text(to: str, body: str) -> bool:
    """Send an SMS from a worker, with retries; only mobiles can receive one."""
    if not phone.is_mobile(to):
        return False
    return enqueue("notify", "app.tasks.send_text", to, body, retry=SEND_RETRY)


def is_messaging_service(sender: str) -> bool:
    return bool(MESSAGING_SERVICE_SID.fullmatch(sender))


def sms_sender_problem(sender: str, desk_number: str) -> str | None:
    """Why ``SMS_FROM`` cannot send the desk's SMS, or None when it can.

    Alphanumeric sender IDs: at most 11 characters, letters, digits and spaces, not digits only
    (https://www.twilio.com/docs/glossary/what-alphanumeric-sender-id).
    """
    if not sender:
        return "empty: set an alphanumeric sender, a mobile number or a Messaging Service SID"
    if sender == desk_number:
        return f"{sender} is the desk number, a landline that cannot send SMS"
    if is_messaging_service(sender) or (sender.startswith("+") and phone.is_mobile(sender)):
        return None
    if sender.startswith("+"):
        return f"{sender} is not a mobile number, so it cannot send SMS"
    if not ALPHANUMERIC_SENDER.fullmatch(sender) or sender.replace(" ", "").isdigit():
        return f"{sender!r} is not an alphanumeric sender (1 to 11 letters, digits or spaces, not only digits)"
    return None
