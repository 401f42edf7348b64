"""RQ jobs of the app's own plumbing (an SMS, a managers' alert, sent with retries); each opens its own app context."""

from app import notifications, surveys
from app.queueing import job_context


def send_text(to: str, body: str) -> None:
    with job_context():
        notifications.send_text(to, body)


def send_low_rating_alert(survey_id: int) -> None:
    with job_context():
        surveys.send_low_rating_alert(survey_id)
