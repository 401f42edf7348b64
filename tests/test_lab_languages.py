"""The phone lab in the reader's language: every string from the catalog, the script's status lines too."""

import json
import re
from html import unescape

import pytest

from app.extensions import db
from app.models import User
from tests.helpers import add_contact, add_technician, add_user, log_in
from tests.test_page_languages import CLOSE, OPEN, untranslated
from tests.test_page_languages import pseudo_locale as pseudo_locale  # a fixture

#: The lab's own data: the people and numbers on its phones, the keypad.
LAB_DATA = re.compile(r"^(boss|Jan Janssens|An Peeters|\+32\d{9,10}|[0-9*#]|…)$")


@pytest.fixture
def app(desk):
    """The lab needs the emulator standing in for Twilio: the desk served with it."""
    return desk.app


@pytest.fixture
def lab(desk):
    add_user("boss")
    add_technician("Jan Janssens", "+32470000111")
    add_contact("An Peeters", "+32470123456")
    client = desk.app.test_client()
    log_in(client, "boss")
    return client


def statuses(html: str) -> dict[str, str]:
    return json.loads(unescape(re.search(r'data-statuses="([^"]+)"', html).group(1)))


def test_every_string_on_the_lab_comes_from_the_catalog(lab, pseudo_locale):
    html = lab.get("/lab").get_data(as_text=True)
    assert OPEN in html
    assert [text for text in untranslated(html) if not LAB_DATA.match(text)] == []
    for key, line in statuses(html).items():
        assert line.startswith(OPEN) and line.endswith(CLOSE), key


def test_a_french_manager_gets_the_lab_in_french(lab):
    db.session.query(User).filter_by(username="boss").update({"language": "fr"})
    db.session.commit()
    html = lab.get("/lab").get_data(as_text=True)
    assert "Labo téléphonique" in html and "Appeler le desk" in html and "Raccrocher" in html
    lines = statuses(html)
    assert lines["talking"] == "En ligne avec %(number)s" and lines["idle"] == "Libre"
