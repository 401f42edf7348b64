"""Whole IVR calls through the emulator, in each language: every branch, what the caller
hears and what lands in the database."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import messages
from app.clock import utcnow
from app.extensions import db
from app.models import Call, Callback, Ticket
from app.opening_hours import parse_hours
from app.tickets.sql import SqlTicketStore
from callbacks.queue import queue_callback
from emulator import APP_ERROR_MESSAGE
from ivr import catalog, script
from ivr.catalog import spoken_ticket_number
from tests.helpers import add_contact, add_technician

CALLER = "+32470123456"
LANGUAGES = {"nl": "1", "fr": "2", "en": "3"}


def call_desk(desk, keys, caller=CALLER):
    call = desk.emulator.place_inbound_call(from_=caller, keys=keys)
    desk.emulator.wait_idle()
    assert call.errors == [] and APP_ERROR_MESSAGE not in call.heard
    return " ".join(call.heard)


def says(language: str, key: str, **values) -> str:
    return catalog.text(language, key, **values)


def known_contact(language: str, contract: str = "wise"):
    contact = add_contact("An Peeters", CALLER, company="Brouwerij De Klok", contract=contract)
    contact.language = language
    db.session.commit()
    return contact


def test_an_unknown_caller_hears_the_language_menu_in_three_languages(desk):
    heard = call_desk(desk, ["1", "2", "#", "1", "1", "1"])
    assert "Voor Nederlands, druk 1. Pour le français, appuyez sur 2. For English, press 3." in heard
    assert "Welkom bij de servicedesk." in heard
    assert "Als u een ticketnummer heeft, druk 1. Om een nieuw probleem te melden, druk 2." in heard


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_problem_in_each_language(desk, language):
    heard = call_desk(desk, [LANGUAGES[language], "2", "#", "2", "2", "1"])
    ticket = db.session.scalars(select(Ticket)).one()
    callback = db.session.scalars(select(Callback)).one()
    assert (ticket.priority, callback.priority, callback.language) == (2, 2, language)
    assert db.session.scalars(select(Call)).one().language == language
    for key in ("welcome", "main_menu", "record_problem", "urgency_menu", "impact_menu"):
        assert says(language, key) in heard
    assert says(language, "ticket_created", ticket=spoken_ticket_number(language, ticket.number)) in heard
    assert says(language, "confirm_number", phone="0 4 7 0, 1 2, 3 4, 5 6") in heard
    assert says(language, "queued", position=1) in heard
    assert says(language, "goodbye") in heard


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_a_known_contact_skips_the_language_menu_and_is_greeted_by_name(desk, language):
    known_contact(language)
    heard = call_desk(desk, ["2", "#", "1", "1", "1"])
    assert "Voor Nederlands" not in heard
    assert says(language, "greeting_known", name="An Peeters", company="Brouwerij De Klok") in heard
    assert db.session.scalars(select(Callback)).one().language == language


def test_dutch_and_french_prompts_are_the_desks_wording(desk):
    assert says("nl", "record_problem") == "Beschrijf na de piep kort uw probleem en druk dan op het hekje."
    assert says("fr", "urgency_menu").startswith("Si vous pouvez continuer à travailler, appuyez sur 1.")
    assert sorted(path.stem for path in catalog.PROMPTS_DIR.glob("*.toml")) == sorted(messages.LANGUAGES)


def test_every_catalog_has_the_same_prompts_and_messages():
    keys = {language: set(catalog._catalog(language)["prompts"]) for language in messages.LANGUAGES}
    assert keys["nl"] == keys["fr"] == keys["en"]
    written = {language: set(messages._catalog(language)) for language in messages.LANGUAGES}
    assert written["nl"] == written["fr"] == written["en"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_caller_with_an_open_callback_keeps_their_place(desk, language):
    known_contact(language)
    ticket = SqlTicketStore().create(title="earlier", priority=3)
    queue_callback(ticket, "+32475000001", 3, "en")
    mine, _ = queue_callback(ticket, CALLER, 3, language)
    heard = call_desk(desk, ["1"])
    assert says(language, "open_callback_menu", position=2) in heard
    assert says(language, "keep_place") in heard
    assert db.session.get(Callback, mine.id).status == "waiting"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_caller_can_cancel_their_callback(desk, language):
    known_contact(language)
    mine, _ = queue_callback(SqlTicketStore().create(title="earlier", priority=3), CALLER, 3, language)
    heard = call_desk(desk, ["2"])
    assert says(language, "callback_cancelled") in heard
    db.session.expire_all()
    assert db.session.get(Callback, mine.id).status == "cancelled"
    assert db.session.get(Callback, mine.id).ticket.notes[-1].body == "Callback cancelled by the caller, by phone."


def test_another_question_from_a_queued_caller_keeps_one_callback(desk):
    known_contact("en")
    mine, _ = queue_callback(SqlTicketStore().create(title="earlier", priority=4), CALLER, 4, "en")
    heard = call_desk(desk, ["3", "2", "#", "2", "3", "1"])
    assert "If you have a ticket number, press 1." in heard
    db.session.expire_all()  # the call changed it in the web server's session
    callbacks = db.session.scalars(select(Callback)).all()
    assert [c.id for c in callbacks] == [mine.id]
    assert callbacks[0].priority == 1  # raised by the new, more urgent problem; same place
    assert len(db.session.scalars(select(Ticket)).all()) == 2


def test_a_caller_being_called_back_cannot_cancel_but_may_ask_another_question(desk):
    known_contact("en")
    mine, _ = queue_callback(SqlTicketStore().create(title="earlier", priority=4), CALLER, 4, "en")
    mine.status = "offered"
    db.session.commit()
    heard = call_desk(desk, ["2", "1"])  # 2 is not an option here: repeated, then 1 keeps it
    assert "A technician is about to call you back. To keep your callback, press 1." in heard
    assert "Sorry, I did not get that." in heard
    assert db.session.get(Callback, mine.id).status == "offered"


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_existing_ticket_is_read_back_to_a_contact_of_its_company(desk, language):
    contact = known_contact(language)
    ticket = SqlTicketStore().create(
        title="Printer offline", priority=4, contact_id=contact.id, company_id=contact.company_id
    )
    digits = ticket.number[1:].replace(".", "")
    heard = call_desk(desk, ["1", digits + "#", "1", "1"])
    spoken = spoken_ticket_number(language, ticket.number)
    status = catalog.status_name(language, "new")
    assert says(language, "ticket_found", ticket=spoken, title="Printer offline", status=status) in heard
    callback = db.session.scalars(select(Callback)).one()
    assert (callback.ticket_id, callback.priority) == (ticket.id, 4)


def test_a_stranger_hears_only_the_status_of_a_ticket(desk):
    other = add_contact("Els Vos", "+3238887766", company="Atelier Vos")
    ticket = SqlTicketStore().create(title="Secret project", priority=4, company_id=other.company_id)
    heard = call_desk(desk, ["3", "1", ticket.number[1:].replace(".", "") + "#", "3", "2", "#", "1", "1", "1"])
    assert "Secret project" not in heard
    assert f"Ticket {spoken_ticket_number('en', ticket.number)} has status: new." in heard
    assert "If you have a ticket number, press 1." in heard.split("has status")[1]  # back to the main menu


def test_people_cannot_work_on_an_existing_ticket_raises_its_priority(desk):
    contact = known_contact("en")
    ticket = SqlTicketStore().create(title="VPN", priority=4, contact_id=contact.id, company_id=contact.company_id)
    call_desk(desk, ["1", ticket.number[1:].replace(".", "") + "#", "2", "2", "1"])
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).priority == 2
    assert db.session.scalars(select(Callback)).one().priority == 2
    assert len(db.session.scalars(select(Ticket)).all()) == 1


def test_three_unknown_ticket_numbers_go_on_as_a_new_problem(desk):
    heard = call_desk(desk, ["3", "1", "123#", "202611270099#", "#", "#", "1", "1", "1"])
    assert heard.count("We could not find that ticket number.") == 2
    assert "After the beep, describe your problem briefly" in heard
    assert db.session.scalars(select(Callback)).one().priority == 4


def test_a_withheld_number_keys_a_foreign_number(desk):
    heard = call_desk(desk, ["3", "2", "#", "1", "1", "0033612345678#", "1"], caller="anonymous")
    assert "Enter the phone number we should call you back on" in heard
    assert "We will call you back on plus 3 3, 6, 1 2, 3 4, 5 6, 7 8." in heard
    assert db.session.scalars(select(Callback)).one().phone == "+33612345678"


def test_a_mobile_caller_gets_the_ticket_number_by_sms(desk):
    call_desk(desk, ["3", "2", "#", "1", "1", "1"])
    desk.run_jobs()
    desk.emulator.wait_idle()
    ticket = db.session.scalars(select(Ticket)).one()
    [sms] = desk.emulator.messages
    assert sms["to"] == CALLER and ticket.number in sms["body"] and "0470 12 34 56" in sms["body"]


def test_a_landline_caller_gets_no_sms_and_a_failing_provider_breaks_nothing(desk):
    call_desk(desk, ["3", "2", "#", "1", "1", "1"], caller="+3238887766")
    desk.emulator.fail_rest = 500
    call_desk(desk, ["3", "2", "#", "1", "1", "1"], caller="+32475111222")
    desk.run_jobs()
    desk.emulator.wait_idle()
    assert desk.emulator.messages == []
    assert len(db.session.scalars(select(Callback)).all()) == 2


def test_an_english_description_is_transcribed_into_the_ticket(desk):
    call_desk(desk, ["3", "2", "the printer on the second floor is on fire#", "1", "1", "1"])
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.description == "the printer on the second floor is on fire"
    assert ticket.title == "the printer on the second floor is on fire"


def test_a_silent_description_still_opens_a_ticket(desk):
    call_desk(desk, ["3", "2", "", "2", "1", "1"])
    assert db.session.scalars(select(Ticket)).one().priority == 3


def test_the_wait_is_estimated_from_technicians_and_the_queue(desk):
    add_technician("Jan", "+32470000001", state="on_call")
    add_technician("Marie", "+32470000002", state="wrap_up")
    heard = call_desk(desk, ["3", "2", "#", "1", "1", "1"])
    assert "We expect to call you back within 15 minutes." in heard
    for i in range(5):
        queue_callback(SqlTicketStore().create(title=f"p{i}", priority=1), f"+3247500000{i}", 1, "en")
    heard = call_desk(desk, ["3", "2", "#", "1", "1", "1"], caller="+32475999999")
    assert "You are number 7 in the callback queue. We expect to call you back within the hour." in heard


def closed_all_week(app):
    app.config["OPENING_HOURS"] = parse_hours("mon-sun 00:00-00:01")


@pytest.mark.parametrize("language", LANGUAGES)
def test_out_of_hours_a_message_becomes_a_callback_at_the_next_opening(desk, language):
    closed_all_week(desk.app)
    heard = call_desk(desk, [LANGUAGES[language], "#", "1", "1", "1"])
    assert says(language, "closed", when=catalog.when(language, "tomorrow", hour=0, minute=0)) in heard
    assert says(language, "main_menu") not in heard
    callback = db.session.scalars(select(Callback)).one()
    assert callback.due_at > utcnow() + timedelta(hours=1) - timedelta(days=1)
    assert callback.due_at > callback.queued_at
    assert says(language, "wait_next_opening", when=catalog.when(language, "tomorrow", hour=0, minute=0)) in heard


def test_out_of_hours_a_magic_contract_may_choose_the_urgent_line(desk):
    closed_all_week(desk.app)
    known_contact("en", contract="magic")
    heard = call_desk(desk, ["1", "3"])
    assert "If people cannot work, press 1 to be put through to our on-call technician." in heard
    assert db.session.scalars(select(Call)).one().urgent_line


def test_out_of_hours_other_contracts_only_leave_a_message(desk):
    closed_all_week(desk.app)
    known_contact("en", contract="wise")
    heard = call_desk(desk, ["#", "1", "1", "1"])
    assert "on-call technician" not in heard
    assert "After the beep, describe your problem briefly" in heard


def test_the_documented_script_is_the_one_in_the_catalogs():
    document = Path(__file__).resolve().parent.parent / "docs" / "ivr.md"
    assert document.read_text() == script.render(), "run: python -m ivr.script > docs/ivr.md"
