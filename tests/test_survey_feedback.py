"""Survey answers reach the managers: low ratings alert them by mail, the board shows ratings and
comments, and its CSAT covers the period a manager chooses."""

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.models import Survey, SurveyState
from app.surveys import record_comment, record_rating
from app.tickets import ticket_store
from tests.helpers import add_contact, add_user, log_in, run_jobs


def rated_survey(rating: int | None = None, days_ago: int = 0, comment: str | None = None) -> Survey:
    an = add_contact(f"An {utcnow().timestamp()}", f"+3247012{len(db.session.query(Survey).all()):04d}")
    ticket = ticket_store().create(title="Mail server down", contact_id=an.id, company_id=an.company_id)
    survey = Survey(ticket_id=ticket.id, state=SurveyState.SENT, sent_at=utcnow() - timedelta(days=days_ago))
    db.session.add(survey)
    db.session.commit()
    if rating is not None:
        survey.rating, survey.rated_at, survey.comment = rating, utcnow() - timedelta(days=days_ago), comment
        db.session.commit()
    return survey


@pytest.fixture
def managers(app):
    app.config["MANAGER_EMAILS"] = ["boss@desk.example", "deputy@desk.example"]


def test_a_rating_of_one_or_two_alerts_the_managers_by_mail(app, mailbox, managers):
    survey = rated_survey()
    assert record_rating(survey, 2)
    run_jobs(app)
    assert sorted(message["To"] for message in mailbox.messages) == ["boss@desk.example", "deputy@desk.example"]
    message = mailbox.messages[0]
    assert message["Subject"] == f"Survey rating 2/5 for ticket {survey.ticket.number}"
    assert "rated ticket" in message.get_content() and "2 out of 5" in message.get_content()


def test_a_good_rating_alerts_nobody(app, mailbox, managers):
    assert record_rating(rated_survey(), 4)
    run_jobs(app)
    assert mailbox.messages == []


def test_a_second_click_alerts_nobody_again(app, mailbox, managers):
    survey = rated_survey()
    assert record_rating(survey, 1)
    assert not record_rating(survey, 1)
    run_jobs(app)
    assert len(mailbox.messages) == 2  # one per manager, once


def test_the_board_shows_low_ratings_and_comments_and_its_csat_covers_the_chosen_period(client):
    rated_survey(5, days_ago=3, comment="Quick and friendly")
    rated_survey(1, days_ago=20)
    today = rated_survey()
    record_rating(today, 4)
    record_comment(today, "Fixed, thanks")
    add_user("boss")
    log_in(client, "boss")

    page = client.get("/board").get_data(as_text=True)
    assert '<span class="value" data-figure="csat">4.0</span>' in page
    assert "Fixed, thanks" in page and "Quick and friendly" not in page

    week = client.get("/board?csat=7d").get_data(as_text=True)
    assert '<span class="value" data-figure="csat">4.5</span>' in week
    assert "Quick and friendly" in week and 'hx-get="/board/live?csat=7d"' in week

    month = client.get("/board/live?csat=30d").get_data(as_text=True)
    assert '<span class="value" data-figure="csat">3.3</span>' in month
    assert month.count('class="low-rating"') == 1
