"""The directory: who is a known caller, and what the desk refuses to store."""

from datetime import date, timedelta

import pytest

from app.directory import InvalidRecord
from app.directory.companies import save_company
from app.directory.contacts import contact_for_number, parse_numbers, save_contact
from app.directory.contracts import in_force
from app.extensions import db
from app.models import Contract


def company(name="Brouwerij De Klok", contract="magic", **extra):
    saved = save_company(None, name=name, contract=contract, numbers=[], **extra)
    db.session.commit()
    return saved


def contact(name="An Peeters", numbers=("+32470123456", "+32475111222"), owner=None, **extra):
    saved = save_contact(
        None,
        name=name,
        company=owner or company(),
        numbers=list(numbers),
        email=extra.pop("email", "an@deklok.example"),
        language=extra.pop("language", "fr"),
        **extra,
    )
    db.session.commit()
    return saved


def test_every_number_of_a_contact_finds_them(app):
    an = contact()
    assert contact_for_number("+32470123456") is an
    assert contact_for_number("+32475111222") is an
    assert contact_for_number("+32475999999") is None
    assert contact_for_number(None) is None


def test_a_deactivated_contact_is_an_unknown_caller(app):
    an = contact()
    an.active = False
    db.session.commit()
    assert contact_for_number("+32470123456") is None


def test_the_contacts_of_a_deactivated_company_are_unknown_callers(app):
    an = contact()
    an.company.active = False
    db.session.commit()
    assert contact_for_number("+32475111222") is None


def test_numbers_in_any_common_notation_become_e164(app):
    assert parse_numbers("0470 12 34 56; +32 (0)3 460.35.35, 0470/12.34.56") == ["+32470123456", "+3234603535"]


def test_a_number_that_is_not_a_phone_is_refused_by_name(app):
    with pytest.raises(InvalidRecord, match="'12345' is not a valid phone number"):
        parse_numbers("0470 12 34 56; 12345")


def test_a_number_of_another_contact_is_refused(app):
    contact()
    with pytest.raises(InvalidRecord, match="0475 11 12 22 is already the number of An Peeters"):
        contact(name="Bart Peeters", numbers=["+32475111222"], owner=company(name="Atelier Vos"))


def test_a_contact_keeps_its_own_numbers_when_edited(app):
    an = contact()
    save_contact(an, name="An Peeters-Vos", company=an.company, numbers=["+32475111222"], email=None, language="nl")
    db.session.commit()
    assert [number.e164 for number in an.phones] == ["+32475111222"]
    assert contact_for_number("+32470123456") is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "a contact needs a name"),
        ({"company": None}, "a contact needs a company"),
        ({"numbers": []}, "a contact needs at least one phone number"),
        ({"email": "an at deklok"}, "is not an e-mail address"),
        ({"language": "de"}, "the language is one of nl, fr, en"),
    ],
)
def test_a_contact_the_desk_cannot_use_is_refused_with_a_clear_message(app, changes, message):
    fields = {"name": "An", "company": company(), "numbers": ["+32470123456"], "email": None, "language": None}
    with pytest.raises(InvalidRecord, match=message):
        save_contact(None, **(fields | changes))


def test_two_companies_cannot_share_a_name_or_a_switchboard_number(app):
    save_company(None, name="Atelier Vos", contract="basic", numbers=["+3238887766"])
    db.session.commit()
    with pytest.raises(InvalidRecord, match="already a company named Atelier Vos"):
        save_company(None, name="atelier vos ", contract="none", numbers=[])
    with pytest.raises(InvalidRecord, match="already the number of Atelier Vos"):
        save_company(None, name="Vos & Zonen", contract="none", numbers=["+3238887766"])
    with pytest.raises(InvalidRecord, match="the contract is one of"):
        save_company(None, name="Vos & Zonen", contract="gold", numbers=[])


def test_a_contract_is_in_force_between_its_first_and_last_day(app):
    today = date(2026, 12, 1)
    klok = company(contract_starts=today - timedelta(days=30), contract_ends=today)
    assert in_force(klok, today) == Contract.MAGIC
    assert in_force(klok, today + timedelta(days=1)) == Contract.NONE
    assert in_force(klok, today - timedelta(days=31)) == Contract.NONE
    assert in_force(None, today) == Contract.NONE
