"""The satisfaction survey: one mail per closed ticket, signed one-use links, ratings and comments."""

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from app import surveys
from app.clock import utcnow
from app.extensions import db
from app.models import Call, Company, Contact, Survey, SurveyState
from app.tickets import ticket_store
from tests.helpers import autotask_settings, run_jobs


def closed_ticket(language: str | None = "nl", email: str | None = "an@deklok.example", **fields):
    contact = Contact(name="An Peeters", email=email, language=language, company=Company(name="De Klok"))
    db.session.add(contact)
    db.session.commit()
    ticket = ticket_store().create(title="Mail server down", priority=2, contact_id=contact.id, **fields)
    ticket_store().close(ticket)
    return ticket


def links_in(message) -> list[str]:
    return re.findall(r"http://desk\.test(/survey/[\w.\-]+)", message.get_body(("plain",)).get_content())


def survey() -> Survey:
    db.session.expire_all()
    return db.session.scalars(select(Survey)).one()


def test_closing_a_ticket_sends_exactly_one_survey_mail(app, mailbox):
    ticket = closed_ticket()
    ticket_store().close(ticket)  # closed twice (a replayed form): still one survey
    run_jobs(app)
    run_jobs(app)
    [message] = mailbox.messages
    assert message["To"] == "an@deklok.example"
    assert message["Subject"] == f"Ticket {ticket.number} is afgesloten: hoe tevreden bent u?"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.startswith("Beste An Peeters,") and "Zeer tevreden" in text and ticket.number in text
    assert len(links_in(message)) == 5
    assert html.count('href="http://desk.test/survey/') == 5 and 'lang="nl"' in html
    assert survey().state == SurveyState.SENT and survey().sent_at is not None


@pytest.mark.parametrize(
    ("language", "greeting", "label"),
    [("fr", "Bonjour An Peeters,", "Très satisfait"), ("en", "Dear An Peeters,", "Very satisfied")],
)
def test_the_mail_is_in_the_contact_s_language(app, mailbox, language, greeting, label):
    closed_ticket(language=language)
    run_jobs(app)
    text = mailbox.messages[0].get_body(("plain",)).get_content()
    assert text.startswith(greeting) and label in text


def test_without_a_known_language_the_caller_s_phone_language_is_used(app, mailbox):
    db.session.add(Call(sid="CA77", language="fr"))
    db.session.commit()
    closed_ticket(language=None, origin_call_sid="CA77")
    run_jobs(app)
    assert mailbox.messages[0]["Subject"].endswith("êtes-vous satisfait ?")


def test_a_rating_link_records_the_rating_once(app, client, mailbox):
    closed_ticket(language="en")
    run_jobs(app)
    links = links_in(mailbox.messages[0])
    answer = client.post(links[3])
    assert answer.status_code == 200 and "Thank you for your rating" in answer.get_data(as_text=True)
    assert (survey().rating, survey().rated_at is not None) == (4, True)
    # A second click, on the same or another score, changes nothing.
    again = client.post(links[0])
    assert "We had already received your rating" in again.get_data(as_text=True)
    assert "4 \N{EN DASH} Satisfied" in again.get_data(as_text=True)
    client.post(links[3])
    assert survey().rating == 4


def test_a_head_request_from_a_link_checker_records_nothing(app, client, mailbox):
    closed_ticket()
    run_jobs(app)
    assert client.head(links_in(mailbox.messages[0])[0]).status_code == 200
    assert survey().rating is None


def test_an_expired_or_forged_link_is_refused_politely(app, client, mailbox):
    closed_ticket(language="en")
    run_jobs(app)
    link = links_in(mailbox.messages[0])[4]
    app.config["SURVEY_TOKEN_MAX_AGE"] = 1
    time.sleep(2.1)
    expired = client.get(link)
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(as_text=True)
    forged = URLSafeTimedSerializer("not-our-secret", salt=surveys.TOKEN_SALT).dumps([survey().id, 5])
    refused = client.get(f"/survey/{forged}")
    assert refused.status_code == 404 and "not valid" in refused.get_data(as_text=True)
    app.config["SURVEY_TOKEN_MAX_AGE"] = 3600
    out_of_range = surveys.serializer().dumps([survey().id, 9])
    assert client.get(f"/survey/{out_of_range}").status_code == 404
    assert client.get("/survey/garbage").status_code == 404
    assert survey().rating is None


def test_one_comment_after_the_rating(app, client, mailbox):
    closed_ticket(language="nl")
    run_jobs(app)
    link = links_in(mailbox.messages[0])[4]
    page = client.post(link).get_data(as_text=True)
    assert "Hartelijk dank voor uw beoordeling" in page and f'action="{link}/comment"' in page
    assert client.post(f"{link}/comment", data={"comment": "  "}).status_code == 400
    assert client.post(f"{link}/comment", data={"comment": "x" * 2001}).status_code == 400
    thanks = client.post(f"{link}/comment", data={"comment": "Snel en vriendelijk geholpen."})
    assert "Bedankt voor uw opmerking" in thanks.get_data(as_text=True)
    second = client.post(f"{link}/comment", data={"comment": "Nog iets"})
    assert "Uw opmerking hadden we al ontvangen" in second.get_data(as_text=True)
    assert survey().comment == "Snel en vriendelijk geholpen."


def test_a_comment_needs_a_rating_first(app, client, mailbox):
    closed_ticket()
    run_jobs(app)
    token = links_in(mailbox.messages[0])[2]
    client.post(f"{token}/comment", data={"comment": "hello"})
    assert survey().comment is None


def test_a_contact_without_mail_address_gets_no_survey(app, mailbox):
    closed_ticket(email=None)
    run_jobs(app)
    assert mailbox.messages == [] and survey().state == SurveyState.NO_ADDRESS


def test_a_failed_send_is_retried_and_still_sends_one_mail(app, redis, mailbox):
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = 1
    closed_ticket()
    run_jobs(app)
    assert survey().state == SurveyState.QUEUED and redis.zcard("rq:scheduled:notify") == 1
    app.config["SMTP_PORT"] = port
    surveys.send_survey(survey().id)
    assert len(mailbox.messages) == 1
    assert surveys.send_survey(survey().id) is False  # the scheduled retry finds it sent
    assert len(mailbox.messages) == 1


def test_the_sweep_queues_again_a_survey_whose_job_was_lost(app, redis, mailbox):
    closed_ticket()
    redis.flushdb()  # the job is gone
    assert surveys.send_pending() == 0  # too recent: its job may still be on its way
    row = survey()
    row.state_since = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert surveys.send_pending() == 1
    assert surveys.send_pending() == 0  # queued now: not twice
    run_jobs(app)
    assert len(mailbox.messages) == 1


def test_the_sweep_leaves_a_survey_whose_job_is_still_queued(app, redis, mailbox):
    closed_ticket()
    row = survey()
    row.state_since = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert surveys.send_pending() == 0
    run_jobs(app)
    assert len(mailbox.messages) == 1


def test_csat_summary_counts_ratings_and_the_response_rate(app, client, mailbox):
    start = utcnow() - timedelta(seconds=1)
    for rating in (5, 4, 4):
        closed_ticket()
        run_jobs(app)
        client.post(links_in(mailbox.messages[-1])[rating - 1])
    closed_ticket()  # sent, not answered
    run_jobs(app)
    summary = surveys.csat_summary(start)
    assert summary == {
        "ratings": 3,
        "average": 4.33,
        "distribution": {1: 0, 2: 0, 3: 0, 4: 2, 5: 1},
        "surveys_sent": 4,
        "response_rate": 0.75,
    }
    assert surveys.csat_summary(utcnow() + timedelta(seconds=5)) == {
        "ratings": 0,
        "average": None,
        "distribution": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0},
        "surveys_sent": 0,
        "response_rate": None,
    }


def test_an_autotask_ticket_surveys_its_autotask_contact(app, standin, mailbox):
    app.config.update(autotask_settings(standin))
    company = standin.add_company("Transports Lemaire", phone="02 555 12 12")
    standin.add_contact(company, "Luc", "Lemaire", email="luc@lemaire.example", mobile="0475 98 76 54")
    from app.directory import autotask_phones as phones

    phones.refresh()
    ticket = ticket_store().create(title="VPN", priority=3, caller_phone="+32475987654")
    ticket_store().close(ticket)
    run_jobs(app)
    [message] = mailbox.messages
    assert message["To"] == "luc@lemaire.example"
    assert standin.label_of("Tickets", "status", standin.ticket_by_number(ticket.number)["status"]) == "Complete"


def test_autotask_down_while_sending_puts_the_survey_back_in_the_queue(app, standin, mailbox):
    app.config.update(autotask_settings(standin))
    from app.directory import autotask_phones as phones

    company = standin.add_company("Transports Lemaire")
    standin.add_contact(company, "Luc", "Lemaire", email="luc@lemaire.example", mobile="0475 98 76 54")
    phones.refresh()
    ticket = ticket_store().create(title="VPN", priority=3, caller_phone="+32475987654")
    standin.fail_next(503, count=100, when=r"GET Contacts/\d+")
    ticket_store().close(ticket)
    run_jobs(app)
    assert survey().state == SurveyState.QUEUED and mailbox.messages == []
    standin.heal()
    assert surveys.send_survey(survey().id) is True
    assert mailbox.messages[0]["To"] == "luc@lemaire.example"


def test_the_sweep_copes_with_redis_being_down(app, mailbox):
    closed_ticket()
    row = survey()
    row.state_since = utcnow() - timedelta(minutes=5)
    db.session.commit()
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("redis", None)
    assert surveys.send_pending() == 0
