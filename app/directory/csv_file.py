"""The directory as a CSV file (DESIGN §6): import with a report per line, export in the same format.

A row is a contact; its company is created or updated by name. Columns are found by their
header (any order, any case; unknown columns are ignored). A contact is the same one again
when its company and name match, so importing a file twice changes nothing the second time.
A refused line changes nothing: everything on it is checked before anything is written.
"""

import csv
import io
import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.directory import InvalidRecord
from app.directory.contacts import parse_numbers, save_contact
from app.extensions import db
from app.models import Company, Contact, Contract
from app.phone import display as phone_display

log = logging.getLogger(__name__)

COLUMNS = ("company", "contract", "name", "phone", "email", "language", "active")
REQUIRED = ("company", "name", "phone")
#: Other headers people write for the same column.
ALIASES = {
    "phones": "phone",
    "numbers": "phone",
    "number": "phone",
    "e-mail": "email",
    "mail": "email",
    "contact": "name",
}
YES, NO = ("yes", "y", "1", "true", "ja", "oui"), ("no", "n", "0", "false", "nee", "non")
ADDED, UPDATED, UNCHANGED, REFUSED = "added", "updated", "unchanged", "refused"


@dataclass(frozen=True)
class Line:
    number: int
    outcome: str
    name: str
    reason: str = ""
    #: The refusal itself, for a page to say ``reason`` in its reader's language.
    refusal: InvalidRecord | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        said = f"line {self.number}: {self.outcome} {self.name}".rstrip()
        return f"{said}: {self.reason}" if self.reason else said


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(line.outcome for line in self.lines)

    def summary(self) -> str:
        counts = self.counts
        return ", ".join(f"{counts[outcome]} {outcome}" for outcome in (ADDED, UPDATED, UNCHANGED, REFUSED))


def import_text(text: str, dry_run: bool = False) -> Report:
    """Import a directory file; with ``dry_run`` report what would happen and change nothing."""
    rows = _rows(text)
    report = Report()
    directory = _Directory()
    # What the lines need is read once up front and kept current in memory: a line costs no
    # look-up round trips, and nothing is flushed before the commit but new companies.
    with db.session.no_autoflush:
        for number, row in rows:
            try:
                outcome, name = _import_row(row, directory)
            except InvalidRecord as refused:
                report.lines.append(Line(number, REFUSED, row.get("name", "").strip(), str(refused), refused))
            else:
                report.lines.append(Line(number, outcome, name))
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    log.info("directory import%s: %s", " (dry run)" if dry_run else "", report.summary())
    return report


def _rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as {column: value}, each with its line number (the header is line 1)."""
    text = text.lstrip("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [ALIASES.get(name.strip().lower(), name.strip().lower()) for name in next(reader, [])]
    if missing := [name for name in REQUIRED if name not in header]:
        raise InvalidRecord(
            "the file has no column %(columns)s (its first line names the columns)", columns=", ".join(missing)
        )
    rows = []
    for values in reader:
        if any(value.strip() for value in values):
            rows.append((reader.line_num, {name: value for name, value in zip(header, values, strict=False)}))
    return rows


class _Directory:
    """The companies, contacts and numbers already known, by the keys a line finds them with."""

    def __init__(self) -> None:
        self.companies = {company.name.strip().lower(): company for company in db.session.scalars(select(Company))}
        contacts = db.session.scalars(select(Contact).options(selectinload(Contact.phones))).all()
        self.contacts = {(contact.company_id, contact.name.strip().lower()): contact for contact in contacts}
        self.owners = {phone.e164: contact for contact in contacts for phone in contact.phones}

    def contact(self, company: Company, name: str) -> Contact | None:
        return self.contacts.get((company.id, name.strip().lower())) if company.id is not None else None


def _import_row(row: dict[str, str], directory: _Directory) -> tuple[str, str]:
    company_name, name = row.get("company", "").strip(), row.get("name", "").strip()
    contract = row.get("contract", "").strip().lower()
    if not company_name:
        raise InvalidRecord("a contact needs a company")
    if contract and contract not in set(Contract):
        raise InvalidRecord(
            "the contract is one of %(contracts)s, not %(contract)r", contracts=", ".join(Contract), contract=contract
        )
    active = _active(row.get("active", ""))
    numbers = parse_numbers(row.get("phone"))
    company = directory.companies.get(company_name.lower())
    # A new company is only added to the session with its first contact, once that one is accepted.
    target = company or Company(name=company_name[:200], contract=contract or Contract.NONE, active=True)
    contact = directory.contact(company, name) if company is not None else None
    for e164 in numbers:
        owner = directory.owners.get(e164)
        if owner is not None and owner is not contact:
            raise InvalidRecord(
                "%(number)s is already the number of %(owner)s", number=phone_display(e164), owner=owner.name
            )
    email, language = row.get("email", "").strip() or None, row.get("language", "").strip().lower() or None
    if contact is not None and _same(contact, numbers, email, language, active):
        outcome = UNCHANGED
    else:
        outcome = ADDED if contact is None else UPDATED
        dropped = [p.e164 for p in contact.phones] if contact is not None else []
        contact = save_contact(
            contact,
            name=name,
            company=target,
            numbers=numbers,
            email=email,
            language=language,
            active=active,
            numbers_checked=True,
        )
        for e164 in dropped:
            directory.owners.pop(e164, None)
        directory.owners.update(dict.fromkeys(numbers, contact))
    if company is None:
        directory.companies[company_name.lower()] = target
        db.session.flush()  # the new company's id keys its contacts from here on
    elif contract and company.contract != contract:
        company.contract = contract
        outcome = UPDATED if outcome == UNCHANGED else outcome
    directory.contacts[(target.id, contact.name.strip().lower())] = contact
    return outcome, f"{contact.name} ({target.name})"


def _same(contact: Contact, numbers: list[str], email: str | None, language: str | None, active: bool) -> bool:
    return [phone.e164 for phone in contact.phones] == numbers and (
        contact.email,
        contact.language,
        contact.active,
    ) == (email, language, active)


def _active(text: str) -> bool:
    value = text.strip().lower()
    if not value or value in YES:
        return True
    if value in NO:
        return False
    raise InvalidRecord("active is yes or no, not %(value)r", value=text.strip())


def export_text() -> str:
    """Every contact, one row each, in the format ``import_text`` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    contacts = db.session.scalars(
        select(Contact)
        .join(Company, Company.id == Contact.company_id)
        .options(selectinload(Contact.phones), selectinload(Contact.company))
        .order_by(Company.name, Contact.name, Contact.id)
    )
    for contact in contacts:
        writer.writerow(
            (
                contact.company.name,
                contact.company.contract,
                contact.name,
                "; ".join(phone.e164 for phone in contact.phones),
                contact.email or "",
                contact.language or "",
                "yes" if contact.active else "no",
            )
        )
    return out.getvalue()
