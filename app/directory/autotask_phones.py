"""The local index of Autotask phone numbers, normalised to E.164.

Autotask keeps phone numbers as free text ("03 460 35 35", "+32 (0)470 12 34 56",
"0470/12.34.56"), so a caller ID cannot be searched for there. The index is rebuilt
from the active contacts and companies (``refresh``, an RQ job and a CLI command)
and answers, without a network call, which company and contact a number belongs to.
"""

import logging
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select

from app import phone
from app.autotask.client import AutotaskClient
from app.extensions import db
from app.models import AutotaskPhone
from app.queueing import job_context

log = logging.getLogger(__name__)

CONTACT_PHONE_FIELDS = ("phone", "mobilePhone", "alternatePhone")
COMPANY_PHONE_FIELDS = ("phone", "alternatePhone1", "alternatePhone2", "fax")


@dataclass(frozen=True)
class PhoneMatch:
    company_id: int
    contact_id: int | None


def refresh(client: AutotaskClient | None = None) -> int:
    """Rebuild the index from Autotask; returns how many numbers it holds.

    The old index stays in place until the new one is complete, and both are swapped
    in one transaction, so a failure half-way leaves the previous index intact.
    """
    client = client or AutotaskClient.for_worker()
    region = current_app.config["PHONE_REGION"]
    entries: set[tuple[str, int, int | None, str]] = set()
    for company in client.query("Companies", [{"op": "eq", "field": "isActive", "value": True}]):
        for name in COMPANY_PHONE_FIELDS:
            if e164 := phone.normalise(company.get(name), region):
                entries.add((e164, int(company["id"]), None, str(company.get("companyName") or "")[:200]))
    for contact in client.query("Contacts", [{"op": "eq", "field": "isActive", "value": 1}]):
        full_name = f"{contact.get('firstName') or ''} {contact.get('lastName') or ''}".strip()
        for name in CONTACT_PHONE_FIELDS:
            if e164 := phone.normalise(contact.get(name), region):
                entries.add((e164, int(contact["companyID"]), int(contact["id"]), full_name[:200]))
    db.session.execute(delete(AutotaskPhone))
    db.session.add_all(
        AutotaskPhone(e164=e164, autotask_company_id=company, autotask_contact_id=contact, name=name)
        for e164, company, contact, name in sorted(entries, key=lambda entry: (entry[0], entry[2] or 0))
    )
    db.session.commit()
    log.info("Autotask phone index rebuilt: %d numbers", len(entries))
    return len(entries)


def match(e164: str | None) -> PhoneMatch | None:
    """The company (and contact, when only one has this number) a caller ID belongs to.

    A number shared by several contacts of one company (a switchboard) matches the
    company only; a number found at several companies matches nothing.
    """
    if not e164:
        return None
    rows = db.session.scalars(select(AutotaskPhone).where(AutotaskPhone.e164 == e164)).all()
    companies = {row.autotask_company_id for row in rows}
    if len(companies) != 1:
        return None
    contacts = {row.autotask_contact_id for row in rows if row.autotask_contact_id is not None}
    return PhoneMatch(companies.pop(), contacts.pop() if len(contacts) == 1 else None)


def refresh_job() -> int:
    """RQ job: rebuild the index (run it nightly, or after adding contacts in Autotask)."""
    with job_context():
        return refresh()
