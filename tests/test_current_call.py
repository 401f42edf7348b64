"""The call a webhook belongs to: found or created in autocommitted Core statements, then a session object."""

from sqlalchemy import func, insert, select
from werkzeug.datastructures import MultiDict

import ivr.calls
from app.extensions import db
from app.models import Call, Contact
from ivr.calls import current_call
from tests.helpers import add_contact

SID = "CA" + "7" * 32


def form(caller: str = "+32470123456", sid: str = SID, status: str = "in-progress") -> MultiDict:
    return MultiDict({"CallSid": sid, "From": caller, "CallStatus": status})


def stored_calls() -> int:
    return db.session.scalar(select(func.count()).select_from(Call))


def test_a_new_call_is_stored_with_its_contact_and_the_contacts_language(app):
    contact = add_contact("Luc Lemaire", "+32470123456")
    contact.language = "fr"
    db.session.commit()
    contact_id = contact.id
    db.session.remove()
    call = current_call(form())
    assert (call.contact_id, call.contact.name, call.language) == (contact_id, "Luc Lemaire", "fr")
    assert (call.from_e164, call.status) == ("+32470123456", "in-progress")
    assert call in db.session and stored_calls() == 1


def test_a_contact_language_the_desk_does_not_speak_gives_the_default(app):
    contact = add_contact("Jan Jansen", "+32470123456")
    contact.language = "de"
    db.session.commit()
    db.session.remove()
    assert current_call(form()).language == "en"


def test_a_deactivated_contact_or_company_is_not_known(app):
    contact = add_contact("Luc Lemaire", "+32470123456", company="Brouwerij De Klok")
    contact.language = "fr"
    contact.active = False
    other = add_contact("Els Claes", "+32470654321", company="Garage Peeters")
    other.company.active = False
    db.session.commit()
    db.session.remove()
    call = current_call(form())
    assert (call.contact_id, call.language) == (None, "en")
    call = current_call(form(caller="+32470654321", sid="CA" + "8" * 32))
    assert call.contact_id is None


def test_a_withheld_number_is_stored_without_contact(app):
    call = current_call(form(caller="anonymous"))
    assert (call.from_raw, call.from_e164, call.contact_id, call.language) == ("anonymous", None, None, "en")


def test_a_change_to_the_call_is_written_by_the_session(app):
    current_call(form()).urgency = "cannot_work"
    db.session.commit()
    db.session.remove()
    assert db.session.scalars(select(Call.urgency).where(Call.sid == SID)).one() == "cannot_work"


def test_the_session_keeps_one_object_per_call(app):
    first = current_call(form())
    first.impact = "me"
    assert current_call(form()) is first and first.impact == "me"


def test_the_first_webhook_delivered_twice_at_once_stores_one_call(app, monkeypatch):
    """The other copy inserts the call between this one's SELECT and INSERT."""
    new_call = ivr.calls._new_call

    def other_copy_first(webhook_form, sid):
        with db.engine.begin() as connection:
            connection.execute(insert(Call).values(sid=sid, from_raw="+32470123456", language="nl"))
        return new_call(webhook_form, sid)

    monkeypatch.setattr(ivr.calls, "_new_call", other_copy_first)
    call = current_call(form())
    assert call.language == "nl" and stored_calls() == 1
    db.session.remove()
    call = current_call(form(sid="CA" + "8" * 32, status="ringing"))
    assert call.language == "nl" and stored_calls() == 2


def test_an_unknown_number_is_not_a_contact(app):
    add_contact("An Peeters", "+32470999999")
    db.session.remove()
    call = current_call(form())
    assert call.contact is None and db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_replayed_first_webhook_finds_the_call_it_created(app):
    first = current_call(form(status="ringing"))
    first_id = first.id
    db.session.remove()
    again = current_call(form(status="ringing"))
    assert again.id == first_id and stored_calls() == 1
