"""Incidents: one outage, one ticket; callers hear it, join it and are kept informed by SMS."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Call, Callback, CallbackStatus, Company, Contact, ContactPhone, Incident, IncidentMember, Ticket
from callbacks import incidents
from tests.helpers import SignedClient, add_user, csrf_token_of, log_in

LANGUAGES = ("nl", "fr", "en")
#: What each language's caller hears and reads, to tell the languages apart.
HEARD = {"nl": "We zijn op de hoogte van", "fr": "Nous sommes au courant de", "en": "We know about"}
SAY = {"nl": "een internetstoring", "fr": "une panne internet", "en": "an internet outage"}
UPDATES = {
    "nl": "De provider herstelt de lijn.",
    "fr": "Le fournisseur répare la ligne.",
    "en": "The provider is fixing the line.",
}


def heard(response) -> str:
    assert response.status_code == 200, response.data
    return " ".join(element.text or "" for element in ET.fromstring(response.data).iter("Say"))


def staff(company: Company, count: int) -> list[Contact]:
    """``count`` contacts of ``company`` on mobile numbers, their languages taking turns."""
    contacts = []
    for n in range(count):
        contact = Contact(name=f"Caller {n}", company=company, language=LANGUAGES[n % 3])
        contact.phones.append(ContactPhone(e164=f"+32470{n:06d}"))
        contacts.append(contact)
    db.session.add_all(contacts)
    db.session.commit()
    return contacts


def number(contact: Contact) -> str:
    return contact.phones[0].e164


def sid(contact: Contact) -> str:
    return f"CA{contact.id:032d}"


def report_whole_company(provider: SignedClient, contact: Contact) -> None:
    """The new-problem path: can keep working, the whole company is affected; callback on the caller ID."""
    caller, call = number(contact), sid(contact)
    provider.post("/voice/incoming", call, caller)
    provider.post("/voice/main-menu?try=0", call, caller, Digits="2")
    provider.post("/voice/recorded", call, caller, RecordingUrl="https://rec.example/RE1", Digits="#")
    provider.post("/voice/urgency?try=0", call, caller, Digits="1")
    provider.post("/voice/impact?try=0", call, caller, Digits="3")
    provider.post("/voice/confirm-number?try=0", call, caller, Digits="1")
    assert count(Callback, Callback.phone == caller) == 1


def manager(app):
    client = app.test_client()
    add_user("marie")
    log_in(client, "marie")
    return client, csrf_token_of(client.get("/board").get_data(as_text=True))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_storm_of_callers_becomes_one_incident(desk):
    provider = SignedClient(desk.app)
    company = Company(name="Brouwerij De Klok", contract="wise")
    callers = staff(company, 30)
    early, joiners, others = callers[:5], callers[5:25], callers[25:]

    for n, contact in enumerate(early):
        report_whole_company(provider, contact)
        proposed = incidents.proposals()
        assert [p.callers for p in proposed] == ([] if n < 2 else [n + 1])
    board, token = manager(desk.app)
    banner = board.get("/board/live").get_data(as_text=True)
    assert "5 callers from Brouwerij De Klok in 1 minutes — declare an incident?" in banner

    form = {"csrf_token": token, "company_id": company.id, "title": "Internet down"}
    form |= {f"say_{language}": SAY[language] for language in LANGUAGES}
    assert board.post("/board/incidents", data=form).status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert incidents.proposals() == []
    for callback in db.session.scalars(select(Callback).order_by(Callback.id)).all():
        assert (
            board.post(f"/board/incidents/{incident.id}/merge/{callback.id}", data={"csrf_token": token}).status_code
            == 302
        )

    callbacks_before = count(Callback)
    for contact in joiners:
        text = heard(provider.post("/voice/incoming", sid(contact), number(contact)))
        assert f"{HEARD[contact.language]} {SAY[contact.language]}." in text
        joined = provider.post("/voice/incident?try=0", sid(contact), number(contact), Digits="1")
        assert {"nl": "per sms", "fr": "par SMS", "en": "by text message"}[contact.language] in heard(joined)
        assert ET.fromstring(joined.data).find("Hangup") is not None
    # The provider delivers a join twice: still one member.
    provider.post("/voice/incident?try=0", sid(joiners[0]), number(joiners[0]), Digits="1")
    for contact in others:
        provider.post("/voice/incoming", sid(contact), number(contact))
        after = heard(provider.post("/voice/incident?try=0", sid(contact), number(contact), Digits="2"))
        assert after == ""  # a Redirect on to the rest of the call
        menu = heard(provider.post("/voice/after-greeting", sid(contact), number(contact)))
        assert menu  # the main menu, in their language
    assert count(Callback) == callbacks_before  # nobody who joined was queued
    assert count(IncidentMember, IncidentMember.via == "phone") == 20
    assert count(Call, Call.outcome == "joined_incident") == 20
    assert count(IncidentMember, IncidentMember.via == "merged") == 5

    desk.run_jobs()
    desk.emulator.messages.clear()
    update = {"csrf_token": token} | {f"text_{language}": UPDATES[language] for language in LANGUAGES}
    board.post(f"/board/incidents/{incident.id}/update", data=update)
    board.post(f"/board/incidents/{incident.id}/close", data={"csrf_token": token, "text": ""})
    desk.run_jobs()

    received: dict[str, list[str]] = {}
    for message in desk.emulator.messages:
        received.setdefault(message["to"], []).append(message["body"])
    for contact in joiners + early:
        bodies = received[number(contact)]
        assert len(bodies) == 2, bodies
        assert UPDATES[contact.language] in bodies[0]
        assert {"nl": "opgelost", "fr": "résolu", "en": "resolved"}[contact.language] in bodies[1]
    assert set(received) == {number(contact) for contact in joiners + early}

    db.session.expire_all()
    parent = db.session.get(Ticket, incident.ticket_id)
    linked = db.session.scalars(select(Ticket).where(Ticket.problem_ticket_id == parent.id)).all()
    assert len(linked) == 5 and all(ticket.status == "resolved" for ticket in linked)
    assert all(any(parent.number in note.body for note in ticket.notes) for ticket in linked)
    assert sum("joined the incident by phone" in note.body for note in parent.notes) == 20
    assert sum("linked to this incident" in note.body for note in parent.notes) == 5
    assert parent.status == "resolved"
    assert all(c.status == CallbackStatus.CANCELLED for c in db.session.scalars(select(Callback)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_caller_on_a_landline_hears_the_incident_and_goes_on(provider, language):
    company = Company(name="Garage Peeters", contract="basic")
    contact = Contact(name="Jan", company=company, language=language)
    contact.phones.append(ContactPhone(e164="+3232123456"))
    db.session.add(contact)
    db.session.commit()
    incidents.open_incident(company.id, "Mail down", incidents.texts_per_language("", **SAY), by="test")
    response = provider.post("/voice/incoming", caller="+3232123456")
    assert f"{HEARD[language]} {SAY[language]}." in heard(response)
    assert ET.fromstring(response.data).find("Redirect").text.endswith("/voice/after-greeting")
    assert ET.fromstring(response.data).find("Gather") is None


def test_an_incident_for_everyone_reaches_unknown_callers_and_other_companies_do_not_hear_one(provider):
    other = Company(name="Bakkerij Janssens")
    db.session.add(other)
    db.session.commit()
    klok = Company(name="Brouwerij De Klok")
    db.session.add(klok)
    db.session.commit()
    incidents.open_incident(klok.id, "Internet down", incidents.texts_per_language("the internet outage"), by="t")
    provider.post("/voice/incoming", "CA" + "1" * 32, "+32470999999")
    text = heard(provider.post("/voice/language?try=0", "CA" + "1" * 32, "+32470999999", Digits="3"))
    assert "We know about" not in text
    incidents.open_incident(None, "Microsoft 365", incidents.texts_per_language("a Microsoft 365 outage"), by="t")
    provider.post("/voice/incoming", "CA" + "2" * 32, "+32470999998")
    text = heard(provider.post("/voice/language?try=0", "CA" + "2" * 32, "+32470999998", Digits="3"))
    assert "We know about a Microsoft 365 outage. To be kept informed by text message, press 1." in text


def test_the_command_line_opens_updates_lists_and_closes_an_incident(runner):
    db.session.add(Company(name="Brouwerij De Klok"))
    db.session.commit()
    opened = runner.invoke(
        args=[
            "incidents",
            "open",
            "--company",
            "Brouwerij De Klok",
            "--title",
            "Internet down",
            "--say",
            "x",
            "--say-fr",
            "y",
        ]
    )
    assert opened.exit_code == 0, opened.output
    incident = db.session.get(Incident, int(opened.output))
    assert (incident.say_nl, incident.say_fr, incident.say_en) == ("x", "y", "x")
    db.session.add(IncidentMember(incident_id=incident.id, phone="+32470111111", language="fr"))
    db.session.commit()
    assert "1 joined  Internet down" in runner.invoke(args=["incidents", "list"]).output
    assert runner.invoke(args=["incidents", "update", str(incident.id), "--text", "Fixing"]).exit_code == 0
    assert runner.invoke(args=["incidents", "close", str(incident.id)]).exit_code == 0
    refused = runner.invoke(args=["incidents", "close", str(incident.id)])
    assert refused.exit_code == 1 and "already closed" in refused.output
    assert runner.invoke(args=["incidents", "open", "--title", "no scope"]).exit_code == 2
