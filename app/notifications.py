"""Messages to customers: SMS through the provider, mail over SMTP.

Both are sent from RQ jobs on the ``notify`` queue with retries, so a slow
SMTP server or provider never holds up a call or a dispatch. The send
functions themselves are synchronous and raise on failure (the job retries).
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from rq import Retry

from app import phone, telephony
from app.queueing import enqueue

log = logging.getLogger(__name__)

#: Retries of a failed send: after 30 s, 2 min, 10 min, 30 min.
SEND_RETRY = Retry(max=4, interval=[30, 120, 600, 1800])


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


def send_text(to: str, body: str) -> None:
    """Send one SMS now; raises when the provider refuses (the job retries)."""
    telephony.rest_client().messages.create(to=to, from_=current_app.config["DESK_NUMBER"], body=body)


def queue_mail(to: str, subject: str, text: str, html: str | None = None) -> bool:
    """Send a mail from a worker, with retries."""
    return enqueue("notify", "app.tasks.send_mail", to, subject, text, html, retry=SEND_RETRY)


def queue_text(to: str, body: str) -> bool:
    """Send an SMS from a worker, with retries; only mobiles can receive one."""
    if not phone.is_mobile(to):
        return False
    return enqueue("notify", "app.tasks.send_text", to, body, retry=SEND_RETRY)
