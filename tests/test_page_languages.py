"""The pages in the reader's language: the account's, else the browser's; every string from the catalog."""

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.clock import utcnow
from app.extensions import db
from app.models import Callback, Technician, Ticket, User
from tests.helpers import add_user, csrf_token_of, log_in

CATALOG = Path(__file__).resolve().parent.parent / "app/web/translations/messages.pot"
#: Every pseudo-translated string is wrapped in these, so a string that is not is seen at once.
OPEN, CLOSE = "⟦", "⟧"


def a_busy_desk() -> Technician:
    """A waiting callback, one being offered to a technician, and that technician."""
    technician = Technician(name="Jan", phone="+32470000101", state="offered", languages="nl")
    db.session.add(technician)
    db.session.flush()
    now = utcnow()
    for n, status in enumerate(("waiting", "offered")):
        ticket = Ticket(number=f"T20261201.000{n}", title="Printer")
        db.session.add(ticket)
        db.session.flush()
        db.session.add(
            Callback(
                ticket_id=ticket.id,
                phone=f"+3247012345{n}",
                language="nl",
                priority=2,
                status=status,
                queued_at=now - timedelta(minutes=5),
                technician_id=technician.id if status == "offered" else None,
            )
        )
    db.session.commit()
    return technician


def test_a_dutch_manager_sees_the_board_and_the_reports_in_dutch(client):
    a_busy_desk()
    add_user("marie")
    db.session.query(User).filter_by(username="marie").update({"language": "nl"})
    db.session.commit()
    log_in(client, "marie")
    board = client.get("/board", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="nl">' in board
    assert "Terugbelbord" in board and "Wachtend" in board and "Technici" in board and "belt de technicus" in board
    reports = client.get("/reports?preset=this_month").get_data(as_text=True)
    assert "Rapporten" in reports and "Terugbeltijd" in reports and "Vorige maand" in reports


def test_a_person_chooses_their_language_and_keeps_it(client):
    add_user("marie")
    log_in(client, "marie")
    token = csrf_token_of(client.get("/board").get_data(as_text=True))
    client.post("/language", data={"language": "fr", "csrf_token": token}, headers={"Referer": "/reports"})
    assert db.session.query(User).filter_by(username="marie").one().language == "fr"
    assert "Tableau des rappels" in client.get("/board").get_data(as_text=True)
    # A language the desk does not speak changes nothing.
    client.post("/language", data={"language": "de", "csrf_token": token})
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="marie").one().language == "fr"


def test_the_language_form_needs_its_csrf_token_and_a_person(client):
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    assert client.post("/language", data={"language": "fr", "csrf_token": token}).status_code == 401
    add_user("marie")
    log_in(client, "marie")
    client.post("/language", data={"language": "fr"})
    assert db.session.query(User).filter_by(username="marie").one().language is None


def test_someone_not_signed_in_gets_the_browsers_language(client):
    page = client.get("/login", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "Se connecter" in page and "Mot de passe" in page
    assert "Aanmelden" in client.get("/login", headers={"Accept-Language": "nl-BE"}).get_data(as_text=True)


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes and the attributes browsers show (title, aria-label...)."""

    SHOWN = ("title", "aria-label", "placeholder", "hx-confirm")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.texts.extend(value for name, value in attrs if name in self.SHOWN and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data)


#: What a page may show that is not the desk's own wording: names, numbers, times, dates, codes.
DATA = re.compile(
    "|".join(
        (
            r"Jan|marie|tom|Printer|Callback Desk|Nederlands|Français|English",
            r"T\d{8}\.\d{4}|P[1-4]|p90|CSV|#|\u2013|\u2014|·|/|%",
            r"\d[\d\s.,:%/+-]*|\d+ (min|s|h)|>? ?\d+-?\d* min(: \d+)?",
            r"[a-z]{2}(,[a-z]{2})*|0\d{3}( \d{2}){3}|\d{2}|Mon|Tue|Wed|Thu|Fri|Sat|Sun",
            r"\d{1,2} [A-Z][a-z]{2,8}( \d{4})?|\d{1,2}/\d{2}/\d{4},? \d{2}:\d{2}",
        )
    ).join(("^(", ")$"))
)


def untranslated(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    leftovers = []
    for text in parser.texts:
        for piece in re.split(rf"{OPEN}.*?{CLOSE}", text, flags=re.S):
            for part in re.split(r"\s*[·()?\u2013\u2014]\s*|\s{2,}", piece.strip()):
                if part.strip() and not DATA.match(part.strip()):
                    leftovers.append(part.strip())
    return leftovers


@pytest.fixture
def pseudo_locale(app, tmp_path):
    """Every catalog string wrapped in ⟦…⟧, under a locale of its own (British English's dates and numbers)."""
    catalog = read_po(CATALOG.open("rb"), locale="en_GB")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(OPEN + form + CLOSE for form in message.id)
        else:
            message.string = OPEN + message.id + CLOSE
    target = tmp_path / "en_GB" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as out:
        write_mo(out, catalog)
    babel = app.extensions["babel"]
    babel.translation_directories = [str(tmp_path)]
    babel.locale_selector = lambda: "en_GB"
    return babel


def test_every_string_on_the_pages_comes_from_the_catalog(client, pseudo_locale):
    technician = a_busy_desk()
    add_user("marie")
    add_user("tom", role="technician", technician=technician)
    pages = {"/login": client.get("/login").get_data(as_text=True)}
    log_in(client, "marie")
    for path in ("/board", "/reports?preset=this_month", "/reports?from=garbage"):
        pages[path] = client.get(path).get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token_of(pages["/board"])})
    log_in(client, "tom")
    pages["/console"] = client.get("/console").get_data(as_text=True)
    for path, html in pages.items():
        assert OPEN in html, path
        assert untranslated(html) == [], (path, untranslated(html))


def test_the_pseudo_locale_check_finds_a_string_left_in_english():
    assert untranslated(f"<p>{OPEN}Waiting{CLOSE} 3</p><p>Nobody is waiting</p>") == ["Nobody is waiting"]


def test_an_account_made_on_the_command_line_can_carry_its_language(runner):
    result = runner.invoke(
        args=["users", "add", "sophie", "--role", "manager", "--language", "fr", "--password", "x" * 10]
    )
    assert result.exit_code == 0, result.output
    assert db.session.query(User).filter_by(username="sophie").one().language == "fr"
    refused = runner.invoke(
        args=["users", "add", "hans", "--role", "manager", "--language", "de", "--password", "x" * 10]
    )
    assert refused.exit_code != 0
