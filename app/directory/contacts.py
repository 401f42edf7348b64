"""Contacts: the people who phone the desk, found by their number.

A number belongs to one contact (``contact_phone.e164`` is unique), so a caller ID
finds its contact in one indexed query. A deactivated contact, or a contact of a
deactivated company, is kept for its tickets' sake but is an unknown caller.
"""

import re

from flask import current_app
from sqlalchemy import or_, select

from app import phone
from app.directory import InvalidRecord
from app.extensions import db
from app.models import Company, Contact, ContactPhone

LANGUAGES = ("nl", "fr", "en")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: What separates several numbers in one field (CSV, admin form).
NUMBER_SEPARATORS = re.compile(r"[;,\n]")


def contact_for_number(e164: str | None) -> Contact | None:
    """The active contact whose number this is (one indexed query), or None."""
    if e164 is None:
        return None
    return db.session.scalars(
        select(Contact)
        .join(ContactPhone, ContactPhone.contact_id == Contact.id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(ContactPhone.e164 == e164, Contact.active, or_(Company.id.is_(None), Company.active))
    ).first()


def parse_numbers(text: str | None) -> list[str]:
    """The E.164 numbers in a field such as ``0470 12 34 56; +32 3 460 35 35``; refuses any it cannot read."""
    region = current_app.config["PHONE_REGION"]
    numbers: list[str] = []
    for raw in NUMBER_SEPARATORS.split(text or ""):
        if not raw.strip():
            continue
        e164 = phone.normalise(raw, region)
        if e164 is None:
            raise InvalidRecord("%(number)r is not a valid phone number", number=raw.strip())
        if e164 not in numbers:
            numbers.append(e164)
    return numbers


def save_contact(
    contact: Contact | None,
    *,
    name: str,
    company: Company | None,
    numbers: list[str],
    email: str | None,
    language: str | None,
    active: bool = True,
    numbers_checked: bool = False,
) -> Contact:
    """Add (``contact`` None) or change a contact after checking it; the caller commits.

    ``numbers_checked`` says the caller already knows no other contact has these numbers.
    """
    name, email, language = name.strip(), (email or "").strip() or None, (language or "").strip().lower() or None
    if not name:
        raise InvalidRecord("a contact needs a name")
    if company is None:
        raise InvalidRecord("a contact needs a company")
    if not numbers:
        raise InvalidRecord("a contact needs at least one phone number")
    if email is not None and not EMAIL.fullmatch(email):
        raise InvalidRecord("%(email)r is not an e-mail address", email=email)
    if language is not None and language not in LANGUAGES:
        raise InvalidRecord(
            "the language is one of %(languages)s, not %(language)r", languages=", ".join(LANGUAGES), language=language
        )
    if not numbers_checked:
        _check_numbers_free(numbers, contact)
    if contact is None:
        contact = Contact()
        db.session.add(contact)
    contact.name, contact.company, contact.email, contact.language = name[:200], company, email, language
    contact.active = active
    kept = {number.e164: number for number in contact.phones}
    contact.phones = [kept.get(e164) or ContactPhone(e164=e164) for e164 in numbers]
    return contact


def _check_numbers_free(numbers: list[str], contact: Contact | None) -> None:
    """A number belongs to one contact: refuse one that another contact already has."""
    owners = db.session.execute(
        select(ContactPhone.e164, Contact.name)
        .join(Contact, Contact.id == ContactPhone.contact_id)
        .where(ContactPhone.e164.in_(numbers), Contact.id != (contact.id if contact and contact.id else -1))
    ).first()
    if owners is not None:
        raise InvalidRecord(
            "%(number)s is already the number of %(owner)s", number=phone.display(owners.e164), owner=owners.name
        )
