"""The directory synchronised from Autotask's Companies, Contracts and Contacts, against the stand-in."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.clock import local
from app.directory import autotask_sync
from app.directory.contacts import contact_for_number
from app.extensions import db
from app.models import Company, Contact, DirectorySync
from ivr import catalog
from tests.helpers import autotask_settings

TODAY = local().date()
LAST_YEAR, NEXT_YEAR = (TODAY - timedelta(days=365)).isoformat(), (TODAY + timedelta(days=365)).isoformat()


@pytest.fixture
def synced(app, standin):
    app.config.update(autotask_settings(standin))
    return standin


def contacts_requests(standin) -> int:
    return sum(1 for method, path in standin.requests if method == "POST" and path.lower().endswith("contacts/query"))


def many_contacts(standin, count: int) -> int:
    company = standin.add_company("Brouwerij De Klok", phone="03 230 45 67")
    for index in range(count):
        standin.add_contact(company, "Contact", f"{index:05d}", mobile=f"0470 {index // 100:02d} {index % 100:02d} 00")
    return company


def test_a_full_sync_reads_five_thousand_contacts_in_pages(synced):
    company = many_contacts(synced, 5000)
    counts = autotask_sync.sync()
    assert (counts["Contacts"], counts["stopped"]) == (5000, 0)
    assert contacts_requests(synced) == 11  # ten full pages of 500, and the empty one that ends the pass
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 5000
    last = contact_for_number("+32470499900")
    assert (last.name, last.company.autotask_id, last.active) == ("Contact 04999", company, True)


def test_an_incremental_sync_picks_up_a_changed_contact_and_a_new_contract(synced):
    company = synced.add_company("Brouwerij De Klok")
    an = synced.add_contact(company, "An", "Peeters", mobile="0470 12 34 56", language="fr")
    synced.add_contact(company, "Piet", "Peeters", mobile="0475 11 22 33")
    for record in [*synced.companies.values(), *synced.contacts.values()]:  # changed long before the first sync
        record.update(lastActivityDate="2026-01-01T00:00:00.000Z", lastModifiedDate="2026-01-01T00:00:00.000Z")
    autotask_sync.sync()
    assert db.session.scalars(select(Company)).one().contract == "none"
    assert contact_for_number("+32470123456").language == "fr"

    synced.update_contact(an, lastName="Peeters-Vos", mobilePhone="0470 99 88 77")
    synced.add_contract(company, "Magic 2026", LAST_YEAR, NEXT_YEAR)
    synced.requests.clear()
    counts = autotask_sync.sync()
    assert (counts["Companies"], counts["Contracts"], counts["Contacts"]) == (0, 1, 1)
    an_now = contact_for_number("+32470998877")
    assert an_now.name == "An Peeters-Vos" and contact_for_number("+32470123456") is None
    klok = db.session.scalars(select(Company)).one()
    assert (klok.contract, klok.contract_ends) == ("magic", date.fromisoformat(NEXT_YEAR))


def test_a_429_mid_sync_is_resumed_later_where_it_stopped(app, synced):
    many_contacts(synced, 1800)
    app.config["AUTOTASK_DIRECTORY_REQUESTS"] = 4  # companies, contracts, two pages of contacts
    first = autotask_sync.sync()
    assert (first["Contacts"], first["stopped"]) == (1000, 1)
    assert db.session.get(DirectorySync, "Contacts").after_id > 0

    app.config["AUTOTASK_DIRECTORY_REQUESTS"] = 200
    synced.fail_next(429, when=r"POST Contacts/query")
    throttled = autotask_sync.sync()
    assert (throttled["Contacts"], throttled["stopped"]) == (0, 1)

    synced.requests.clear()
    resumed = autotask_sync.sync()
    assert (resumed["Contacts"], resumed["stopped"]) == (800, 0)
    assert contacts_requests(synced) == 2  # the two pages left, not the whole list again
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1800


def test_a_contact_whose_phone_is_free_text_is_matched(synced):
    company = synced.add_company("Transports Lemaire")
    synced.add_contact(company, "Luc", "Lemaire", phone="+32 (0)470 12.34.56 ext 2")
    autotask_sync.sync()
    assert contact_for_number("+32470123456").name == "Luc Lemaire"


def test_an_expired_or_inactive_contract_gives_no_kind_and_the_best_one_in_force_wins(synced):
    company = synced.add_company("Atelier Vos")
    synced.add_contract(company, "Basic support", LAST_YEAR, NEXT_YEAR)
    synced.add_contract(company, "Wise 2024", "2024-01-01", "2024-12-31")
    synced.add_contract(company, "Magic", LAST_YEAR, NEXT_YEAR, active=False)
    autotask_sync.sync()
    assert db.session.scalars(select(Company)).one().contract == "basic"


class TestOnThePhone:
    @pytest.fixture
    def desk_settings(self, standin):
        return autotask_settings(standin)

    def test_a_caller_known_only_in_autotask_is_greeted_by_name_in_their_language(self, desk, standin):
        company = standin.add_company("Transports Lemaire")
        standin.add_contact(company, "Luc", "Lemaire", mobile="0475/98.76.54", language="Français")
        standin.add_contract(company, "Magic", LAST_YEAR, NEXT_YEAR)
        autotask_sync.sync()
        call = desk.emulator.place_inbound_call(from_="+32475987654", keys=["1", "2", "#", "1", "1", "1"])
        desk.emulator.wait_idle()
        heard = " ".join(call.heard)
        assert catalog.text("fr", "greeting_known", name="Luc Lemaire", company="Transports Lemaire") in heard
        assert catalog.text("nl", "language_choice") not in heard
