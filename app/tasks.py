"""RQ jobs of the app's own plumbing (an SMS sent with retries); each opens its own app context."""

from app import notifications
from app.queueing import job_context


def send_text(to: str, body: str) -> None:
    with job_context():
        notifications.send_text(to, body)
