"""Every webhook of the urgent path keeps its promise with the database down: the caller's
leg apologises and takes a callback, a message's recording URL is kept, a technician's leg
ends politely, and nothing answers 5xx."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Callback, Ticket
from tests.helpers import SignedClient, build_app, run_jobs

SID = "CA" + "e" * 32


@pytest.fixture
def broken_desk(monkeypatch, tmp_path, redis):
    """The app with a database it cannot reach."""
    app = build_app(monkeypatch, "postgresql+psycopg://127.0.0.1:1/gone", tmp_path / "broken")
    with app.app_context():
        yield SignedClient(app)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def said(root: ET.Element) -> str:
    return " ".join(element.text or "" for element in root.iter("Say"))


@pytest.mark.parametrize("path", ["/voice/urgent/1/left", "/voice/urgent/1/nobody-free"])
def test_the_callers_leg_apologises_and_takes_a_callback(broken_desk, app, path):
    root = twiml(broken_desk.post(path, SID, "+32470123456", QueueResult="leave"))
    assert "something went wrong on our side" in said(root)
    assert "We have noted your number" in said(root)
    run_jobs(app)
    assert db.session.scalars(select(Callback)).one().phone == "+32470123456"


def test_the_wait_document_takes_the_caller_out_of_the_queue(broken_desk):
    root = twiml(broken_desk.post("/voice/urgent/1/hold", SID, "+32470123456", QueueTime="20"))
    assert [element.tag for element in root] == ["Leave"]


def test_a_withheld_callers_message_is_kept_with_its_recording(broken_desk, app):
    url = "https://rec.example/RE77"
    root = twiml(broken_desk.post("/voice/urgent/1/message", SID, "anonymous", RecordingUrl=url))
    assert root.find("Hangup") is not None
    run_jobs(app)
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.recording_url == url


@pytest.mark.parametrize(
    "path",
    [
        "/voice/urgent/1/whisper/1",
        "/voice/urgent/1/accept/1",
        "/voice/urgent/1/bridged/1",
        "/voice/urgent/1/leg-status/1",
    ],
)
def test_a_technicians_leg_ends_politely(broken_desk, path):
    root = twiml(broken_desk.post(path, SID, "+3234603535", Digits="1", CallStatus="completed"))
    assert root.find("Hangup") is not None
