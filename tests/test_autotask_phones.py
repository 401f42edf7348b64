"""The local index of Autotask phone numbers: free text in, E.164 out, and who a caller is."""

from app.directory import autotask_phones as phones
from app.directory.autotask_phones import PhoneMatch
from tests.helpers import autotask_settings


def test_free_text_numbers_are_matched_to_their_contact_and_company(app, standin):
    app.config.update(autotask_settings(standin))
    klok = standin.add_company("Brouwerij De Klok", phone="03 230 45 67", fax="03/230.45.68")
    standin.add_contact(klok, "An", "Peeters", mobile="+32 (0)470 12 34 56", phone="03 230 45 67")
    standin.add_contact(klok, "Piet", "Peeters", phone="03 230 45 67", alternate="tel. 0475-11-22-33")
    standin.add_contact(klok, "Gone", "Away", mobile="0499 99 99 99", active=False)
    vos = standin.add_company("Atelier Vos", phone="+32 3 888 77 66")
    standin.add_contact(vos, "Els", "Vos", mobile="0470 12 34 56")  # the same mobile as An, at another company

    phones.refresh()

    assert phones.match("+3232304568") == PhoneMatch(klok, None)  # the fax line
    # The switchboard is on two contacts of one company: the company, not a contact.
    assert phones.match("+3232304567") == PhoneMatch(klok, None)
    assert phones.match("+32475112233").contact_id is not None
    # A number found at two companies tells us nothing.
    assert phones.match("+32470123456") is None
    assert phones.match("+32499999999") is None  # inactive contacts are not indexed
    assert phones.match("+3238887766") == PhoneMatch(vos, None)
    assert phones.match(None) is None


def test_a_refresh_replaces_the_index_and_a_failed_one_keeps_it(app, standin):
    app.config.update(autotask_settings(standin))
    company = standin.add_company("Transports Lemaire")
    luc = standin.add_contact(company, "Luc", "Lemaire", mobile="0475 98 76 54")
    assert phones.refresh() == 1
    assert phones.match("+32475987654") == PhoneMatch(company, luc)

    standin.contacts[luc]["mobilePhone"] = "0475 00 00 01"
    standin.fail_next(500, when=r"POST Contacts/query")
    try:
        phones.refresh()
    except Exception as error:  # the failure is reported...
        assert "500" in str(error)
    assert phones.match("+32475987654") == PhoneMatch(company, luc)  # ...and the old index kept
    phones.refresh()
    assert phones.match("+32475987654") is None
    assert phones.match("+32475000001") == PhoneMatch(company, luc)
