"""The directory file: import with a report per line, idempotent, and export that imports back."""

from sqlalchemy import func, select

from app.directory import csv_file
from app.directory.contacts import contact_for_number
from app.extensions import db
from app.models import Company, Contact, ContactPhone
from tests.directory_files import directory_file


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_two_thousand_lines_with_twenty_bad_ones_import_with_a_report_naming_each(app, tmp_path, runner):
    text, bad = directory_file(2000)
    path = tmp_path / "directory.csv"
    path.write_text(text)
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1  # some lines were refused
    for line in bad:
        assert (
            f"line {line}: refused Contact {line - 2:05d}: 'not a number' is not a valid phone number" in result.output
        )
    assert "1980 added, 0 updated, 0 unchanged, 20 refused in " in result.output
    assert (count(Contact), count(Company)) == (1980, 200)
    an = contact_for_number("+32470000007")
    assert (an.name, an.company.name, an.company.contract, an.language, an.email) == (
        "Contact 00007",
        "Company 0000",
        "none",
        "fr",
        "c7@example.be",
    )
    assert [phone.e164 for phone in an.phones] == ["+32470000007", "+3232070000"]


def test_a_second_import_changes_nothing(app):
    text, _ = directory_file(300)
    csv_file.import_text(text)
    phones = db.session.execute(select(ContactPhone.id, ContactPhone.e164).order_by(ContactPhone.id)).all()
    again = csv_file.import_text(text)
    assert again.summary() == "0 added, 0 updated, 297 unchanged, 3 refused"
    assert db.session.execute(select(ContactPhone.id, ContactPhone.e164).order_by(ContactPhone.id)).all() == phones


def test_a_changed_line_updates_its_contact_and_company(app):
    csv_file.import_text("company,contract,name,phone,email,language\nDe Klok,basic,An Peeters,0470 12 34 56,,nl\n")
    report = csv_file.import_text(
        "name,company,contract,phone,language\nAn Peeters,de klok,magic,0470 12 34 56; 0475 11 12 22,fr\n"
    )
    assert [str(line) for line in report.lines] == ["line 2: updated An Peeters (De Klok)"]
    an = contact_for_number("+32475111222")
    assert (an.language, an.company.contract, count(Company)) == ("fr", "magic", 1)


def test_a_dry_run_reports_and_changes_nothing(app, tmp_path, runner):
    path = tmp_path / "directory.csv"
    path.write_text("company,name,phone\nDe Klok,An Peeters,0470 12 34 56\n")
    result = runner.invoke(args=["directory", "import", "--dry-run", str(path)])
    assert result.exit_code == 0
    assert "line 2: added An Peeters (De Klok)" in result.output
    assert "dry run: 1 added" in result.output
    assert (count(Contact), count(Company)) == (0, 0)


def test_a_refused_line_leaves_no_company_behind(app):
    report = csv_file.import_text("company,name,phone,language\nNew Co,An,0470 12 34 56,de\n")
    assert str(report.lines[0]) == "line 2: refused An: the language is one of nl, fr, en, not 'de'"
    assert count(Company) == 0


def test_a_number_already_in_the_file_is_refused_on_its_second_line(app):
    report = csv_file.import_text("company,name,phone\nDe Klok,An,0470 12 34 56\nVos,Els,+32470123456\n")
    assert str(report.lines[1]) == "line 3: refused Els: 0470 12 34 56 is already the number of An"


def test_a_file_without_the_needed_columns_is_refused_whole(app, tmp_path, runner):
    path = tmp_path / "directory.csv"
    path.write_text("firm,person\nDe Klok,An\n")
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert "the file has no column company, name, phone" in result.output


def test_export_then_import_round_trips(app, tmp_path, runner):
    text, _ = directory_file(200)
    csv_file.import_text(text)
    contact_for_number("+32470000001").active = False
    db.session.commit()
    path = tmp_path / "export.csv"
    assert runner.invoke(args=["directory", "export", str(path)]).exit_code == 0
    exported = path.read_text()
    assert exported.startswith("company,contract,name,phone,email,language,active\n")
    for table in (ContactPhone, Contact, Company):
        db.session.execute(table.__table__.delete())
    db.session.commit()
    report = csv_file.import_text(exported)
    assert report.summary() == "198 added, 0 updated, 0 unchanged, 0 refused"
    assert csv_file.export_text() == exported
    assert contact_for_number("+32470000001") is None
