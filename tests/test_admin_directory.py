"""The managers' directory pages: list, search, add, edit, deactivate, and the CSV upload."""

import io

import pytest

from app.directory.contacts import contact_for_number
from app.extensions import db
from app.models import Company, Contact
from tests.helpers import add_technician, add_user, csrf_token_of, log_in


@pytest.fixture
def manager(client):
    add_user("boss")
    log_in(client, "boss")
    client.token = csrf_token_of(client.get("/admin/companies").get_data(as_text=True))
    return client


def post(client, path, **form):
    return client.post(path, data={"csrf_token": client.token, **form})


def add_klok(manager):
    return post(manager, "/admin/companies/new", name="Brouwerij De Klok", contract="magic", numbers="03 460 35 35")


def test_the_admin_pages_are_for_managers_only(client):
    assert client.get("/admin/contacts").status_code == 401
    add_user("jan", role="technician", technician=add_technician("Jan", "+32470000001"))
    log_in(client, "jan")
    assert client.get("/admin/contacts").status_code == 403


def test_a_manager_adds_a_company_and_a_contact_with_two_numbers(manager):
    assert add_klok(manager).status_code == 302
    answer = post(
        manager,
        "/admin/contacts/new",
        name="An Peeters",
        company="brouwerij de klok",
        numbers="0470 12 34 56; +32 475 11 12 22",
        email="an@deklok.example",
        language="fr",
    )
    assert answer.status_code == 302
    an = contact_for_number("+32475111222")
    assert (an.name, an.company.name, an.company.contract, an.language) == (
        "An Peeters",
        "Brouwerij De Klok",
        "magic",
        "fr",
    )
    listed = manager.get("/admin/contacts?q=0475 11").get_data(as_text=True)
    assert "An Peeters" in listed and "0475 11 12 22" in listed


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"numbers": "0470 12"}, "&#39;0470 12&#39; is not a valid phone number"),
        ({"numbers": "+32 470 99 99 99"}, "0470 99 99 99 is already the number of Els Vos"),
        ({"company": "Nobody Inc"}, "there is no company named &#39;Nobody Inc&#39;: add it first"),
        ({"company": ""}, "a contact needs a company"),
    ],
)
def test_a_contact_the_desk_cannot_use_is_refused_with_a_clear_message(manager, form, message):
    add_klok(manager)
    post(manager, "/admin/contacts/new", name="Els Vos", company="Brouwerij De Klok", numbers="0470 99 99 99")
    fields = {"name": "An Peeters", "company": "Brouwerij De Klok", "numbers": "0470 12 34 56"}
    answer = post(manager, "/admin/contacts/new", **(fields | form))
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert db.session.query(Contact).count() == 1


def test_an_edit_keeps_what_was_typed_when_refused(manager):
    add_klok(manager)
    klok = db.session.query(Company).one()
    answer = post(manager, f"/admin/companies/{klok.id}", name="Brouwerij De Klok", contract="gold", numbers="")
    assert answer.status_code == 400
    assert "the contract is one of none, basic, wise, magic, not &#39;gold&#39;" in answer.get_data(as_text=True)
    db.session.refresh(klok)
    assert klok.contract == "magic"


def test_a_deactivated_contact_is_unknown_and_can_come_back(manager):
    add_klok(manager)
    post(manager, "/admin/contacts/new", name="An Peeters", company="Brouwerij De Klok", numbers="0470 12 34 56")
    an = contact_for_number("+32470123456")
    post(manager, f"/admin/contacts/{an.id}/active", active="0")
    assert contact_for_number("+32470123456") is None
    post(manager, f"/admin/contacts/{an.id}/active", active="1")
    assert contact_for_number("+32470123456") is an


def test_the_lists_page_fifty_at_a_time(manager):
    for index in range(120):
        db.session.add(Company(name=f"Company {index:03d}", contract="none"))
    db.session.commit()
    third = manager.get("/admin/companies?q=company&page=3").get_data(as_text=True)
    assert "120 found" in third and "page 3 of 3" in third
    assert "Company 100" in third and "Company 099" not in third


def test_an_uploaded_file_is_imported_with_its_report(manager):
    text = (
        "company,contract,name,phone,email,language\n"
        "De Klok,magic,An Peeters,0470 12 34 56,,nl\n"
        "De Klok,magic,Bad,12,,nl\n"
    )
    answer = manager.post(
        "/admin/directory-file",
        data={"csrf_token": manager.token, "file": (io.BytesIO(text.encode()), "directory.csv")},
        content_type="multipart/form-data",
    )
    page = answer.get_data(as_text=True)
    assert "1 added, 0 updated, 0 unchanged, 1 refused" in page
    assert "&#39;12&#39; is not a valid phone number" in page
    assert contact_for_number("+32470123456").name == "An Peeters"
    exported = manager.get("/admin/directory-file/export.csv").get_data(as_text=True)
    assert (
        exported == "company,contract,name,phone,email,language,active\nDe Klok,magic,An Peeters,+32470123456,,nl,yes\n"
    )
