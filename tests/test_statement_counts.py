"""The SQL each IVR webhook sends, counted: a step that grows a round trip fails here as a number.

Counted on the engine: statements (``before_cursor_execute``), the COMMITs and ROLLBACKs of
transactions (an autocommit connection sends none), and the liveness pings of pooled
connections. Every webhook starts with a fresh session, as it does in production (one app
context per request).
"""

from collections import Counter

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.helpers import add_contact

SID = "CA" + "5" * 32
CALLER = "+32470999888"

#: The new-problem path of an unknown caller: (label, path, form fields).
NEW_PROBLEM = [
    ("incoming (new call)", "/voice/incoming", {"CallStatus": "ringing"}),
    ("incoming (replayed)", "/voice/incoming", {"CallStatus": "ringing"}),
    ("language", "/voice/language?try=0", {"Digits": "3"}),
    ("main-menu", "/voice/main-menu?try=0", {"Digits": "2"}),
    ("recorded", "/voice/recorded", {"RecordingUrl": "https://rec.example/RE1", "Digits": "#"}),
    ("urgency", "/voice/urgency?try=0", {"Digits": "1"}),
    ("impact", "/voice/impact?try=0", {"Digits": "1"}),
    ("confirm-number", "/voice/confirm-number?try=0", {"Digits": "1"}),
    ("status (completed)", "/voice/status", {"CallStatus": "completed", "CallDuration": "42"}),
]

#: (statements, commits, rollbacks, pings) per webhook.
EXPECTED = {
    "incoming (new call)": (1, 0, 0, 0),
    "incoming (replayed)": (2, 0, 0, 0),
    # the choice stored, then the announcement in that language and an open incident for the caller
    "language": (6, 1, 1, 0),
    "main-menu": (1, 0, 0, 0),
    "recorded": (3, 1, 1, 0),
    "urgency": (3, 1, 1, 0),
    "impact": (15, 4, 1, 0),
    "confirm-number": (16, 3, 1, 0),
    "status (completed)": (2, 1, 0, 0),
}

#: A known contact's first webhook: the greeting by name, the open-callback check, and the
#: announcement and open incident the contact would hear.
EXPECTED_KNOWN_CONTACT = (7, 0, 1, 0)


def autocommits(connection) -> bool:
    """An autocommit connection's COMMIT or ROLLBACK sends nothing to the database."""
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


class Counts:
    """What the engine was asked to do while a webhook ran."""

    def __init__(self, monkeypatch) -> None:
        self.seen: Counter[str] = Counter()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        ping = engine.dialect.do_ping

        def counted_ping(dbapi_connection) -> bool:
            self.seen["pings"] += 1
            return ping(dbapi_connection)

        monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)

    def _statement(self, *_args) -> None:
        self.seen["statements"] += 1

    def _commit(self, connection) -> None:
        if not autocommits(connection):
            self.seen["commits"] += 1

    def _rollback(self, connection) -> None:
        if not autocommits(connection):
            self.seen["rollbacks"] += 1

    def of(self, provider, path: str, sid: str, caller: str, **form) -> tuple[int, int, int, int]:
        """Post one webhook in a fresh session and return its counts."""
        db.session.remove()
        self.seen.clear()
        response = provider.post(path, sid, caller, **form)
        assert response.status_code == 200, response.data
        assert b"<Response>" in response.data
        db.session.remove()
        seen = self.seen
        return seen["statements"], seen["commits"], seen["rollbacks"], seen["pings"]


@pytest.fixture
def counts(app, monkeypatch) -> Counts:
    return Counts(monkeypatch)


def test_each_step_of_a_new_problem_sends_what_it_needs(provider, counts):
    measured = {label: counts.of(provider, path, SID, CALLER, **form) for label, path, form in NEW_PROBLEM}
    assert measured == EXPECTED


def test_a_known_contacts_incoming_call_looks_up_the_contact_and_open_callbacks(provider, counts):
    add_contact("An Peeters", CALLER)
    assert counts.of(provider, "/voice/incoming", SID, CALLER, CallStatus="ringing") == EXPECTED_KNOWN_CONTACT
