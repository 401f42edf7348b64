"""The survey landing page in a real browser: a rating link, the comment box, a second click."""

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app import surveys
from app.extensions import db
from app.models import Contact, Survey
from app.tickets import ticket_store
from tests.browser.conftest import screenshot


def test_a_customer_rates_comments_and_a_second_click_changes_nothing(desk, page: Page):
    contact = Contact(name="Luc Lemaire", email="luc@lemaire.example", language="fr")
    db.session.add(contact)
    db.session.commit()
    ticket = ticket_store().create(title="VPN en panne", priority=3, contact_id=contact.id)
    ticket_store().close(ticket)
    desk.run_jobs()  # no SMTP host here: the mail is logged, the survey counts as sent
    survey = db.session.scalars(select(Survey)).one()
    assert survey.state == "sent"

    page.goto(surveys.rating_url(survey, 5))
    expect(page.locator("input[name=rating][value='5']")).to_be_checked()  # shown, not recorded yet
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Merci pour votre évaluation")
    expect(page.locator(".rating")).to_have_text("5 \N{EN DASH} Très satisfait")
    page.fill("textarea[name=comment]", "Rapide et aimable, merci !")
    screenshot(page, "survey")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Merci pour votre commentaire")

    page.goto(surveys.rating_url(survey, 1))
    expect(page.locator("h1")).to_have_text("Nous avions déjà reçu votre évaluation")
    expect(page.locator(".rating")).to_have_text("5 \N{EN DASH} Très satisfait")
    expect(page.locator("textarea")).to_have_count(0)  # the comment is in already
    db.session.expire_all()
    survey = db.session.get(Survey, survey.id)
    assert (survey.rating, survey.comment) == (5, "Rapide et aimable, merci !")
