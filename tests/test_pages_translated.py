"""Every page in the reader's language: the busy board, the directory pages and the caller's page.

The pseudo-locale walk (tests/test_page_languages.py) wraps every catalog string in ⟦…⟧; here it
walks the pages with everything on them that can show (incidents, announcements, feedback, windows,
urgent calls, records, forms, an import report, every state of a caller's page), and the real
Dutch and French catalogs are read the way a manager and a caller see them.
"""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import callback_links
from app.clock import utcnow
from app.extensions import db
from app.models import (
    Callback,
    Company,
    CompanyPhone,
    Contact,
    ContactPhone,
    Incident,
    IncidentMember,
    IncidentUpdate,
    Survey,
    Technician,
    Ticket,
    UrgentTransfer,
    User,
)
from callbacks import announcements, incidents
from tests.helpers import add_user, csrf_token_of, log_in
from tests.test_page_languages import CLOSE, OPEN, a_busy_desk, untranslated
from tests.test_page_languages import pseudo_locale as pseudo_locale  # a fixture

#: The records these tests make: their names are data, not the desk's wording.
RECORDS = re.compile(
    r"^(Brouwerij De Klok|An Peeters|an@klok\.be|Internet down|Storing op de lijn|De lijn is terug|"
    r"Toner op|none|basic|wise|magic|03 \d{3} \d{2} \d{2}|0470 \d{2} \d{2} \d{2}|Caller \d|"
    r"\d+ [A-Z][a-z]+ \d{2}:\d{2}|[A-Z][a-z]+ \d{2}/\d{2}|\+\d{11}|[a-z]{2},|\d{2}:\d{2} De lijn is terug|"
    r"[:,] ?\d*|[:,]|: Storing op de lijn|/5)$"
)


def flattened(html: str) -> str:
    """A catalog string inside another (a window inside "We will call you back %(window)s.") counts as the outer one."""
    out, depth = [], 0
    for char in html:
        if char == OPEN:
            depth += 1
            if depth > 1:
                continue
        elif char == CLOSE:
            depth -= 1
            if depth > 0:
                continue
        out.append(char)
    return "".join(out)


def leftovers(html: str) -> list[str]:
    return [text for text in untranslated(flattened(html)) if not RECORDS.match(text)]


def a_company() -> Company:
    company = Company(name="Brouwerij De Klok", contract="wise", phones=[CompanyPhone(e164="+3234603500")])
    contact = Contact(name="An Peeters", company=company, email="an@klok.be", language="nl")
    contact.phones.append(ContactPhone(e164="+32470998877"))
    db.session.add_all([company, contact])
    db.session.commit()
    return company


def everything_on_the_board(technician: Technician) -> None:
    """An incident with callers and an update, an announcement, feedback, a window, an urgent call."""
    # The desk's own ticket numbers for today come from its store: the hand-made ones move to yesterday.
    for ticket in db.session.scalars(select(Ticket)):
        ticket.number = ticket.number.replace("T20261201", "T20261130")
    company = a_company()
    incident = incidents.open_incident(
        company.id, "Internet down", incidents.texts_per_language("Storing op de lijn"), by="marie"
    )
    db.session.add_all(
        [
            IncidentMember(incident_id=incident.id, phone="+32470000201", language="nl"),
            IncidentMember(incident_id=incident.id, phone="+32470000202", language="fr", via="merged"),
            IncidentUpdate(incident_id=incident.id, text_en="De lijn is terug"),
        ]
    )
    announcements.announce("nl", "Storing op de lijn", utcnow() + timedelta(hours=1), by="marie")
    now = utcnow()
    for rating, comment in ((1, "Toner op"), (5, None)):
        ticket = Ticket(number=f"T20261201.009{rating}", title="Printer", status="closed", company_id=company.id)
        db.session.add(ticket)
        db.session.flush()
        db.session.add(
            Survey(
                ticket_id=ticket.id,
                state="sent",
                sent_at=now,
                rating=rating,
                rated_at=now,
                comment=comment,
                commented_at=now if comment else None,
            )
        )
    scheduled = db.session.scalars(select(Callback).where(Callback.status == "waiting")).first()
    scheduled.scheduled_for = scheduled.due_at = now + timedelta(days=1)
    scheduled.window_ends_at = now + timedelta(days=1, hours=4)
    urgent = Ticket(number="T20261201.0077", title="Printer", status="in_progress")
    db.session.add(urgent)
    db.session.flush()
    db.session.add_all(
        [
            UrgentTransfer(call_sid="CA" + "7" * 32, ticket_id=urgent.id, phone=None, status="ringing"),
            UrgentTransfer(call_sid="CA" + "8" * 32, ticket_id=urgent.id, phone="+32470000203", status="oncall"),
        ]
    )
    db.session.commit()


def test_the_busy_board_shows_only_catalog_strings(client, pseudo_locale):
    technician = a_busy_desk()
    everything_on_the_board(technician)
    add_user("marie")
    log_in(client, "marie")
    for path in ("/board", "/board?csat=7d", "/board?csat=30d"):
        html = client.get(path).get_data(as_text=True)
        for shown in ('data-incident="', 'data-announcement="nl"', 'data-survey="', "data-window=", 'data-urgent="'):
            assert shown in html, (path, shown)
        assert leftovers(html) == [], (path, leftovers(html))


def test_a_board_action_answers_from_the_catalog(client, pseudo_locale):
    a_busy_desk()
    add_user("marie")
    log_in(client, "marie")
    token = csrf_token_of(client.get("/board").get_data(as_text=True))
    answer = client.post("/board/announcements", data={"csrf_token": token, "language": "nl", "minutes": "x"})
    html = answer.get_data(as_text=True) if answer.status_code == 200 else client.get("/board").get_data(as_text=True)
    assert f"{OPEN}Say for how many minutes the announcement plays." in html
    assert leftovers(html) == []


DIRECTORY_FILE = (
    b"company,name,phone\nBrouwerij De Klok,An Peeters,+32470998877\nBrouwerij De Klok,Caller 1,0470112233\n"
)


def directory_pages(client) -> dict[str, str]:
    """Every directory page a manager opens, with records on the lists and a refused form."""
    company = a_company()
    contact = db.session.scalars(select(Contact)).one()
    technician = db.session.scalars(select(Technician)).first()
    add_user("tom", role="technician", technician=technician)
    pages = {}
    for path in (
        "/admin/companies",
        "/admin/companies/new",
        f"/admin/companies/{company.id}",
        "/admin/contacts",
        "/admin/contacts/new",
        f"/admin/contacts/{contact.id}",
        "/admin/technicians",
        "/admin/technicians/new",
        f"/admin/technicians/{technician.id}",
        "/admin/users",
        "/admin/users/new",
        "/admin/directory-file",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        pages[path] = answer.get_data(as_text=True)
    token = csrf_token_of(pages["/admin/companies"])
    dry_run = client.post(
        "/admin/directory-file",
        data={
            "csrf_token": token,
            "dry_run": "1",
            "file": (
                io.BytesIO(DIRECTORY_FILE),
                "directory.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert dry_run.status_code == 200
    pages["/admin/directory-file (dry run)"] = dry_run.get_data(as_text=True)
    empty = client.post("/admin/directory-file", data={"csrf_token": token})
    pages["/admin/directory-file (no file)"] = empty.get_data(as_text=True)
    return pages


def test_the_directory_pages_show_only_catalog_strings(client, pseudo_locale):
    a_busy_desk()
    add_user("marie")
    log_in(client, "marie")
    for path, html in directory_pages(client).items():
        assert OPEN in html, path
        assert leftovers(html) == [], (path, leftovers(html))


def test_a_dutch_manager_sees_the_directory_in_dutch(client):
    a_busy_desk()
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "nl"})
    db.session.commit()
    log_in(client, "marie")
    pages = directory_pages(client)
    assert '<html lang="nl">' in pages["/admin/companies"]
    assert "Bedrijven" in pages["/admin/companies"] and "Bedrijf toevoegen" in pages["/admin/companies"]
    assert "Centrale" in pages["/admin/companies"] and "Deactiveren" in pages["/admin/companies"]
    assert "Contactpersonen" in pages["/admin/contacts"] and "Naam, bedrijf of nummer" in pages["/admin/contacts"]
    assert "Technici" in pages["/admin/technicians"] and "aangeboden" in pages["/admin/technicians"]
    assert "Gebruikers" in pages["/admin/users"] and "technicus" in pages["/admin/users"]
    assert "Bewaren" in pages["/admin/companies/new"] and "geen contract" in pages["/admin/companies/new"]
    report = pages["/admin/directory-file (dry run)"]
    assert "Proefdraai" in report and "1 bijgewerkt" in report and "1 toegevoegd" in report
    assert "Kies een CSV-bestand om te importeren." in pages["/admin/directory-file (no file)"]


def a_callback(language: str) -> Callback:
    from app.tickets import ticket_store
    from callbacks.queue import queue_callback

    ticket = ticket_store().create(title="Printer", priority=3)
    return queue_callback(ticket, "+32470123456", 3, language)[0]


def caller_pages(client) -> dict[str, str]:
    """The caller's page in every state: waiting, moved to a window, being called, over, forged."""
    callback = a_callback("nl")
    path = f"/c/{callback_links.token_for(callback.id)}"
    pages = {"waiting": client.get(path).get_data(as_text=True)}
    token = re.search(r'name="csrf_token" value="([^"]+)"', pages["waiting"]).group(1)
    pages["no window"] = client.post(f"{path}/move", data={"csrf_token": token, "window": "1"}).get_data(as_text=True)
    window = re.search(r'name="window" value="(\d+)"', pages["waiting"]).group(1)
    pages["moved"] = client.post(f"{path}/move", data={"csrf_token": token, "window": window}).get_data(as_text=True)
    callback = db.session.get(Callback, callback.id)
    callback.status = "in_progress"
    db.session.commit()
    pages["called"] = client.get(path).get_data(as_text=True)
    pages["too late"] = client.post(f"{path}/cancel", data={"csrf_token": token}).get_data(as_text=True)
    callback.status = "waiting"
    callback.scheduled_for = callback.window_ends_at = None
    db.session.commit()
    pages["cancelled"] = client.post(f"{path}/cancel", data={"csrf_token": token}).get_data(as_text=True)
    pages["over"] = client.get(path).get_data(as_text=True)
    pages["forged"] = client.get(path[:-2] + "xx").get_data(as_text=True)
    return pages


def test_the_callers_page_shows_only_catalog_strings(client, pseudo_locale):
    for state, html in caller_pages(client).items():
        assert OPEN in html, state
        assert leftovers(html) == [], (state, leftovers(html))


def test_the_callers_page_speaks_the_callbacks_language_whatever_the_browser(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    pages = caller_pages(client)
    assert '<html lang="nl">' in pages["waiting"]
    assert "Uw terugbelverzoek" in pages["waiting"] and "U bent nummer 1 in de terugbellijst." in pages["waiting"]
    assert "Een ander tijdstip kiezen" in pages["waiting"] and " tussen " in pages["waiting"]
    assert "Kies een van de voorgestelde tijdstippen." in pages["no window"]
    assert "Uw terugbelverzoek is verplaatst." in pages["moved"] and "We bellen u terug op " in pages["moved"]
    assert "Een technicus belt u nu terug." in pages["called"]
    assert "Een technicus belt u al terug" in pages["too late"]
    assert "Uw terugbelverzoek is geannuleerd." in pages["cancelled"]
    assert "Deze link is niet meer geldig." in pages["over"]
    # A forged link has no callback: the browser's language.
    assert "This link is no longer valid." in pages["forged"]


@pytest.mark.parametrize(
    ("language", "title", "weekdays"),
    [
        ("fr", "Votre rappel", ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")),
        ("en", "Your callback", ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")),
    ],
)
def test_a_callback_in_another_language_gets_its_page_and_weekdays_in_it(client, language, title, weekdays):
    callback = a_callback(language)
    html = client.get(f"/c/{callback_links.token_for(callback.id)}", headers={"Accept-Language": "nl"}).get_data(
        as_text=True
    )
    assert f'<html lang="{language}">' in html and title in html
    labels = re.findall(r'name="window" value="\d+" required> ([^<]+)</label>', html)
    assert labels and all(any(f" {day} " in f" {label} " for day in weekdays) for label in labels), labels


def test_a_callers_page_does_not_change_a_signed_in_persons_language(client):
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "fr"})
    db.session.commit()
    log_in(client, "marie")
    callback = a_callback("nl")
    assert "Uw terugbelverzoek" in client.get(f"/c/{callback_links.token_for(callback.id)}").get_data(as_text=True)
    assert "Tableau des rappels" in client.get("/board").get_data(as_text=True)


def test_an_incident_and_a_refused_number_are_counted_on_the_dutch_board(client):
    technician = a_busy_desk()
    everything_on_the_board(technician)
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "nl"})
    db.session.commit()
    log_in(client, "marie")
    html = client.get("/board").get_data(as_text=True)
    assert "Incidenten" in html and "Mededelingen" in html and "Feedback van klanten" in html
    assert "2 beller(s) op de hoogte gehouden" in html and "tijdvak " in html
    assert "dringend: belt technici" in html and "afgeschermd" in html
    assert db.session.scalars(select(Incident)).one().title == "Internet down"


def refusals(client) -> dict[str, str]:
    """Pages answering with a refusal the engine or the directory wrote."""
    a_company()
    waiting = db.session.scalars(select(Callback).order_by(Callback.id)).first()
    waiting.status = "cancelled"
    db.session.commit()
    token = csrf_token_of(client.get("/board").get_data(as_text=True))
    pages = {}
    client.post(f"/board/callbacks/{waiting.id}/cancel", data={"csrf_token": token})
    pages["board: cancel a cancelled callback"] = client.get("/board").get_data(as_text=True)
    pages["company: a namesake"] = client.post(
        "/admin/companies/new", data={"csrf_token": token, "name": "Brouwerij De Klok", "contract": "none"}
    ).get_data(as_text=True)
    pages["contact: a bad e-mail"] = client.post(
        "/admin/contacts/new",
        data={
            "csrf_token": token,
            "name": "An Peeters",
            "company": "Brouwerij De Klok",
            "numbers": "0470112233",
            "email": "an@",
        },
    ).get_data(as_text=True)
    pages["import: a bad line"] = client.post(
        "/admin/directory-file",
        data={
            "csrf_token": token,
            "dry_run": "1",
            "file": (io.BytesIO(b"company,name,phone,active\nBrouwerij De Klok,Caller 1,0470112233,maybe\n"), "d.csv"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    return pages


def test_refusals_from_the_engine_and_the_directory_come_from_the_catalog(client, pseudo_locale):
    a_busy_desk()
    add_user("marie")
    log_in(client, "marie")
    for name, html in refusals(client).items():
        assert OPEN in html and leftovers(html) == [], (name, leftovers(html))


def test_a_dutch_manager_reads_refusals_in_dutch_and_the_api_keeps_english(client):
    a_busy_desk()
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "nl"})
    db.session.commit()
    log_in(client, "marie")
    pages = refusals(client)
    waiting = db.session.scalars(select(Callback).order_by(Callback.id)).first()
    assert (
        f"Terugbelverzoek {waiting.id} is al geannuleerd; het kan niet meer geannuleerd worden."
        in (pages["board: cancel a cancelled callback"])
    )
    assert "er is al een bedrijf met de naam Brouwerij De Klok" in pages["company: a namesake"]
    assert "&#39;an@&#39; is geen e-mailadres" in pages["contact: a bad e-mail"]
    assert "active is yes of no, niet &#39;maybe&#39;" in pages["import: a bad line"]
    # The same refusal in English where no reader's language applies (logs, API, command line).
    from callbacks import manage

    with pytest.raises(manage.Refused) as refused:
        manage.cancel(waiting.id, by="test")
    assert str(refused.value) == f"Callback {waiting.id} is already cancelled; it cannot be cancelled."
