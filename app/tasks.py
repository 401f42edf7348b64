"""RQ jobs of the app's own plumbing (messages); each opens its own app context."""

from app import notifications
from app.queueing import job_context


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> None:
    with job_context():
        notifications.send_mail(to, subject, text, html)


def send_text(to: str, body: str) -> None:
    with job_context():
        notifications.send_text(to, body)
