"""Announcements: played after the language choice, in the caller's language, until they end."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from app.clock import utcnow
from callbacks import announcements
from tests.helpers import add_user, csrf_token_of, log_in

TEXTS = {
    "nl": ("Microsoft 365 ligt plat in Europa.", "Let op: Microsoft 365 ligt plat in Europa."),
    "fr": ("Microsoft 365 est en panne en Europe.", "Attention : Microsoft 365 est en panne en Europe."),
    "en": ("Microsoft 365 is down in Europe.", "Please note: Microsoft 365 is down in Europe."),
}
KEYS = {"nl": "1", "fr": "2", "en": "3"}


def heard(response) -> list[str]:
    return [element.text or "" for element in ET.fromstring(response.data).iter("Say")]


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_announcement_is_played_after_the_language_choice(provider, language):
    for each, (text, _) in TEXTS.items():
        announcements.announce(each, text, utcnow() + timedelta(hours=1), by="test")
    assert not any("Microsoft" in text for text in heard(provider.post("/voice/incoming")))
    said = heard(provider.post("/voice/language?try=0", Digits=KEYS[language]))
    assert said[1] == TEXTS[language][1]  # right after the welcome
    assert sum("Microsoft" in text for text in said) == 1


def test_an_ended_announcement_is_not_played(provider):
    announcements.announce("en", "Old news.", utcnow() + timedelta(hours=1), by="test")
    announcements.end("en")
    provider.post("/voice/incoming")
    assert not any("Old news" in text for text in heard(provider.post("/voice/language?try=0", Digits="3")))


def test_a_new_announcement_replaces_the_current_one_and_bad_ones_are_refused(app):
    announcements.announce("en", "First.", utcnow() + timedelta(hours=1), by="test")
    announcements.announce("en", "Second.", utcnow() + timedelta(hours=1), by="test")
    assert [a.text for a in announcements.active()] == ["Second."]
    for language, text, ends in (("de", "x", 1), ("en", "", 1), ("en", "x", -1)):
        with pytest.raises(ValueError):
            announcements.announce(language, text, utcnow() + timedelta(hours=ends), by="test")


def test_the_board_sets_shows_and_ends_an_announcement(client):
    add_user("marie")
    log_in(client, "marie")
    token = csrf_token_of(client.get("/board").get_data(as_text=True))
    client.post("/board/announcements", data={"csrf_token": token, "language": "fr", "text": "Panne.", "minutes": "30"})
    live = client.get("/board/live").get_data(as_text=True)
    assert 'data-announcement="fr"' in live and "Panne." in live
    client.post("/board/announcements/fr/end", data={"csrf_token": token})
    assert 'data-announcement="fr"' not in client.get("/board/live").get_data(as_text=True)


def test_the_command_line_sets_and_lists_an_announcement(runner):
    result = runner.invoke(args=["announcements", "set", "--language", "nl", "--text", "Storing.", "--until", "+60"])
    assert result.exit_code == 0, result.output
    assert "nl until" in runner.invoke(args=["announcements", "list"]).output
    assert runner.invoke(args=["announcements", "set", "--language", "nl", "--text", "x", "--until", "soon"]).exit_code
