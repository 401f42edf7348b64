"""The satisfaction survey: one mail per closed ticket, five rating links, one answer.

Closing a ticket (either store) calls ``request_survey``: a survey row is inserted
unless the ticket has one (the unique ``ticket_id`` is the guard that makes it
"exactly once per ticket, ever") and an RQ job mails it over SMTP, in the contact's
language, as plain text with an HTML alternative. Each link carries a token signed
with SECRET_KEY (itsdangerous) naming the survey and the rating; it expires after
SURVEY_TOKEN_MAX_AGE, and the survey row makes it one-use: the first rating is kept
(compare-and-set on ``rating IS NULL``), a later click changes nothing.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from rq.job import Job
from sqlalchemy import and_, func, or_, select, update

from app import notifications, phone, urls
from app.clock import utcnow
from app.extensions import db
from app.messages import LANGUAGES
from app.models import AutotaskTicket, Call, Survey, SurveyState, Ticket
from app.queueing import JOB_TTL, enqueue, job_context, queue, redis_connection
from app.sql import insert_ignoring_conflicts

log = logging.getLogger(__name__)

RATINGS = (1, 2, 3, 4, 5)
#: Ratings that alert the managers (DESIGN §6) and stand out on the board.
LOW_RATINGS = (1, 2)
TOKEN_SALT = "survey-rating"
COMMENT_MAX_CHARS = 2000
#: A survey queued this recently may still have its job in Redis; the sweep leaves it alone.
QUEUE_GRACE = timedelta(minutes=2)
#: A send that has not finished after this long (its worker died) is tried again.
SENDING_TIMEOUT = timedelta(minutes=15)
SEND_RETRY = notifications.SEND_RETRY


# -- asking -----------------------------------------------------------------------------------------


def request_survey(ticket: Ticket) -> Survey | None:
    """Create the ticket's survey and queue its mail; None when the ticket had one already."""
    inserted = insert_ignoring_conflicts(
        Survey,
        index_elements=["ticket_id"],
        ticket_id=ticket.id,
        state=SurveyState.QUEUED,
        created_at=utcnow(),
        state_since=utcnow(),
    )
    db.session.commit()
    if not inserted:
        return None
    survey = db.session.scalars(select(Survey).where(Survey.ticket_id == ticket.id)).one()
    queue_send(survey.id)
    return survey


def job_id(survey_id: int) -> str:
    return f"survey-mail-{survey_id}"


def queue_send(survey_id: int) -> bool:
    """Queue the mail job (one job id per survey); False when Redis is down (the sweep retries)."""
    try:
        queue("notify").enqueue(
            "app.surveys.send_survey_job",
            survey_id,
            job_id=job_id(survey_id),
            retry=SEND_RETRY,
            **JOB_TTL,
        )
    except Exception:
        log.exception("could not queue the survey mail %s", survey_id)
        return False
    return True


def resend_job() -> int:
    """``rq cron``'s survey sweep (callbacks/cron.py)."""
    with job_context():
        return send_pending()


def send_pending() -> int:
    """The sweep: queue again surveys whose job was lost (Redis down or flushed, worker killed)."""
    now = utcnow()
    stuck = db.session.scalars(
        select(Survey.id).where(
            or_(
                and_(Survey.state == SurveyState.QUEUED, Survey.state_since < now - QUEUE_GRACE),
                and_(Survey.state == SurveyState.SENDING, Survey.state_since < now - SENDING_TIMEOUT),
            )
        )
    ).all()
    requeued = 0
    for survey_id in stuck:
        try:
            if Job.exists(job_id(survey_id), connection=redis_connection()):
                continue
        except Exception:
            log.exception("Redis is unreachable: %d survey mails wait", len(stuck))
            break
        _move(survey_id, (SurveyState.QUEUED, SurveyState.SENDING), SurveyState.QUEUED)
        db.session.commit()
        requeued += queue_send(survey_id)
    return requeued


# -- sending ----------------------------------------------------------------------------------------


def _move(survey_id: int, expected: tuple[str, ...], new: str, **values: Any) -> bool:
    statement = (
        update(Survey)
        .where(Survey.id == survey_id, Survey.state.in_(expected))
        .values(state=new, state_since=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def send_survey(survey_id: int) -> bool:
    """Mail the survey now; True when sent. Raises when SMTP fails (the job retries)."""
    if not _move(survey_id, (SurveyState.QUEUED,), SurveyState.SENDING):
        db.session.rollback()
        return False  # sent already, or another worker is at it
    db.session.commit()
    survey = db.session.get(Survey, survey_id, populate_existing=True)
    try:
        email, language = recipient(survey.ticket)
        survey.email, survey.language = email, language
        if email:
            subject, text, html = render_mail(survey)
            notifications.send_mail(email, subject, text, html)
    except Exception:
        # SMTP or Autotask (the contact's address) failed: back in the queue for the job's retry.
        db.session.rollback()
        _move(survey_id, (SurveyState.SENDING,), SurveyState.QUEUED)
        db.session.commit()
        raise
    if not email:
        _move(survey_id, (SurveyState.SENDING,), SurveyState.NO_ADDRESS)
        db.session.commit()
        log.info("survey %s of ticket %s not sent: no mail address", survey_id, survey.ticket.number)
        return False
    _move(survey_id, (SurveyState.SENDING,), SurveyState.SENT, sent_at=utcnow(), email=email, language=language)
    db.session.commit()
    return True


def send_survey_job(survey_id: int) -> bool:
    """RQ job: mail one survey."""
    with job_context():
        return send_survey(survey_id)


def recipient(ticket: Ticket) -> tuple[str | None, str]:
    """Who gets the survey, in which language: the ticket's contact, else its Autotask contact.

    The language is the contact's, else the one the caller chose on the phone, else the desk's default.
    """
    email = ticket.contact.email if ticket.contact is not None else None
    language = ticket.contact.language if ticket.contact is not None else None
    if not email:
        email = _autotask_contact_email(ticket)
    if language not in LANGUAGES and ticket.origin_call_sid:
        language = db.session.scalar(select(Call.language).where(Call.sid == ticket.origin_call_sid))
    if language not in LANGUAGES:
        language = current_app.config["DEFAULT_LANGUAGE"]
    return email, language if language in LANGUAGES else "en"


def _autotask_contact_email(ticket: Ticket) -> str | None:
    link = db.session.get(AutotaskTicket, ticket.id)
    if link is None or link.autotask_contact_id is None:
        return None
    from app.autotask.client import AutotaskClient

    contact = AutotaskClient.for_worker().get(f"Contacts/{link.autotask_contact_id}").get("item") or {}
    return contact.get("emailAddress") or None


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def rating_url(survey: Survey, rating: int) -> str:
    token = serializer().dumps([survey.id, rating])
    return urls.survey_rating(token)


def render_mail(survey: Survey) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the survey mail, in the survey's language."""
    ticket = survey.ticket
    values = {
        "language": survey.language,
        "name": ticket.contact.name if ticket.contact is not None else None,
        "ticket": ticket,
        "links": [(rating, rating_url(survey, rating)) for rating in RATINGS],
        "days": current_app.config["SURVEY_TOKEN_MAX_AGE"] // 86400,
        "desk_phone": phone.display(current_app.config["DESK_NUMBER"]),
    }
    folder = f"survey/{survey.language}"
    subject = render_template(f"{folder}/subject.txt", **values).strip()
    return subject, render_template(f"{folder}/mail.txt", **values), render_template(f"{folder}/mail.html", **values)


# -- answering --------------------------------------------------------------------------------------


def read_token(token: str) -> tuple[Survey | None, int | None, str]:
    """The survey and rating a link names, or why it cannot be used (``expired``, ``invalid``)."""
    try:
        survey_id, rating = serializer().loads(token, max_age=current_app.config["SURVEY_TOKEN_MAX_AGE"])
    except SignatureExpired:
        return None, None, "expired"
    except (BadSignature, TypeError, ValueError):
        return None, None, "invalid"
    survey = db.session.get(Survey, survey_id) if isinstance(survey_id, int) else None
    if survey is None or rating not in RATINGS:
        return None, None, "invalid"
    return survey, rating, "ok"


def record_rating(survey: Survey, rating: int) -> bool:
    """Keep the rating if the survey has none yet; of two clicks only the first one counts."""
    recorded = db.session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.rating.is_(None))
        .values(rating=rating, rated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(survey)
    if recorded == 1 and rating in LOW_RATINGS:
        queue_low_rating_alert(survey)
    return recorded == 1


def queue_low_rating_alert(survey: Survey) -> bool:
    """Tell the managers by mail (a job, with retries) that a customer rated the desk 1 or 2."""
    if not current_app.config["MANAGER_EMAILS"]:
        log.warning("survey %s rated %s: no MANAGER_EMAILS to alert", survey.id, survey.rating)
        return False
    return enqueue("notify", "app.tasks.send_low_rating_alert", survey.id, retry=SEND_RETRY)


def send_low_rating_alert(survey_id: int) -> None:
    """The alert mail itself: who rated what, for which ticket, and the comment when there is one already."""
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.rating is None:
        return
    ticket = survey.ticket
    company = ticket.customer_company
    who = ", ".join(
        name for name in (ticket.contact.name if ticket.contact else None, company.name if company else None) if name
    )
    subject = f"Survey rating {survey.rating}/5 for ticket {ticket.number}"
    lines = [
        f"{who or ticket.caller_phone or 'A customer'} rated ticket {ticket.number} ({ticket.title})"
        f" {survey.rating} out of 5.",
        f"Comment: {survey.comment}" if survey.comment else "No comment (yet); the board shows it when one comes.",
    ]
    for address in current_app.config["MANAGER_EMAILS"]:
        notifications.send_mail(address, subject, "\n".join(lines) + "\n")


def feedback(since: datetime, limit: int = 10) -> list[Survey]:
    """The newest low ratings and comments given since ``since``, for the board."""
    return list(
        db.session.scalars(
            select(Survey)
            .where(Survey.rated_at >= since, or_(Survey.rating.in_(LOW_RATINGS), Survey.comment.is_not(None)))
            .order_by(Survey.rated_at.desc(), Survey.id.desc())
            .limit(limit)
        )
    )


def record_comment(survey: Survey, comment: str) -> bool:
    recorded = db.session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.rating.is_not(None), Survey.comment.is_(None))
        .values(comment=comment, commented_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(survey)
    return recorded == 1


# -- figures ----------------------------------------------------------------------------------------


def csat_summary(since: datetime) -> dict[str, Any]:
    """Customer satisfaction since ``since`` (naive UTC), for the board and the API.

    ``ratings``, ``average`` and ``distribution`` count the ratings given since then;
    ``surveys_sent`` counts the mails sent since then and ``response_rate`` is the share
    of those already rated (None while none was sent).
    """
    rated = db.session.execute(
        select(Survey.rating, func.count()).where(Survey.rated_at >= since).group_by(Survey.rating)
    ).all()
    distribution = {rating: 0 for rating in RATINGS}
    for rating, count in rated:
        distribution[rating] = count
    ratings = sum(distribution.values())
    sent = db.session.scalar(select(func.count()).select_from(Survey).where(Survey.sent_at >= since))
    answered = db.session.scalar(
        select(func.count()).select_from(Survey).where(Survey.sent_at >= since, Survey.rating.is_not(None))
    )
    average = sum(rating * count for rating, count in distribution.items()) / ratings if ratings else None
    return {
        "ratings": ratings,
        "average": round(average, 2) if average is not None else None,
        "distribution": distribution,
        "surveys_sent": sent,
        "response_rate": round(answered / sent, 3) if sent else None,
    }
