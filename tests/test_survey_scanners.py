"""Mail scanners follow every link of a survey mail: a GET shows the rating, only a POST records it."""

from sqlalchemy import select

from app import surveys
from app.extensions import db
from app.models import Contact, Survey
from app.tickets import ticket_store


def sent_survey() -> Survey:
    contact = Contact(name="An Peeters", email="an@deklok.example", language="en")
    db.session.add(contact)
    db.session.commit()
    ticket = ticket_store().create(title="Mail", priority=3, contact_id=contact.id)
    ticket_store().close(ticket)
    return db.session.scalars(select(Survey)).one()


def path(survey: Survey, rating: int, app) -> str:
    return surveys.rating_url(survey, rating).removeprefix(app.config["PUBLIC_BASE_URL"])


def rating_of(survey: Survey) -> int | None:
    db.session.expire_all()
    return db.session.get(Survey, survey.id).rating


def test_a_scanner_fetching_every_link_records_nothing(app, client):
    survey = sent_survey()
    for rating in range(1, 6):
        page = client.get(path(survey, rating, app))
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Your rating for ticket" in html
        assert f'value="{rating}" checked' in html and html.count("checked") == 1
    assert rating_of(survey) is None


def test_the_customer_sends_the_preselected_rating_or_another(app, client):
    survey = sent_survey()
    link = path(survey, 2, app)
    thanks = client.post(link, data={"rating": "4"})  # changed their mind on the page
    assert "Thank you for your rating" in thanks.get_data(as_text=True)
    assert rating_of(survey) == 4
    assert "We had already received your rating" in client.get(path(survey, 1, app)).get_data(as_text=True)
    client.post(path(survey, 1, app))
    assert rating_of(survey) == 4


def test_a_garbage_rating_in_the_form_falls_back_to_the_links(app, client):
    survey = sent_survey()
    client.post(path(survey, 3, app), data={"rating": "9"})
    assert rating_of(survey) == 3
