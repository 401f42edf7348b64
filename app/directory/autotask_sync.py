"""The directory read from Autotask (``TICKET_STORE=autotask``): Companies, Contracts and Contacts.

Each entity is read in pages of 500 by ascending id (``id gt`` the last one read), and what a
page brings is committed with the id it reached, so a run stopped by Autotask's threshold (429),
an outage or its own request budget resumes there next time. After a complete pass only changes
are read: Companies by ``lastActivityDate``, Contacts by ``lastModifiedDate`` (the fields Autotask
exposes for this, https://ww1.autotask.net/help/Developerhelp/Content/APIs/REST/General_Topics/REST_BestPractices.htm);
Contracts expose neither, so new ones are read by id and ``full`` re-reads them all.

Autotask keeps phone numbers as free text; they are normalised to E.164 here, so a synchronised
contact is a known caller like any other (app/directory/contacts.py).
"""

import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app import phone
from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskUnavailable
from app.clock import local
from app.directory.autotask_phones import CONTACT_PHONE_FIELDS
from app.directory.contacts import LANGUAGES
from app.extensions import db
from app.models import AutotaskContract, Company, Contact, ContactPhone, Contract, DirectorySync
from app.queueing import job_context

log = logging.getLogger(__name__)

PAGE_SIZE = 500
#: In this order: contacts and contracts name their company.
ENTITIES = ("Companies", "Contracts", "Contacts")
#: The field whose change an incremental pass reads, per entity (none: new records only).
CHANGED_FIELD = {"Companies": "lastActivityDate", "Contacts": "lastModifiedDate"}
#: Best first: a company with several contracts in force has the best one's kind.
KIND_ORDER = (Contract.MAGIC, Contract.WISE, Contract.BASIC)
#: Autotask's clock and ours may differ a little: an incremental pass reads a bit further back.
CLOCK_SLACK = timedelta(minutes=2)
LANGUAGE_NAMES = {
    "nederlands": "nl",
    "dutch": "nl",
    "français": "fr",
    "francais": "fr",
    "french": "fr",
    "english": "en",
}


class Budget:
    """The Autotask requests one run may still make."""

    def __init__(self, requests: int) -> None:
        self.left = requests

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def sync(full: bool = False, client: AutotaskClient | None = None) -> Counter:
    """Read what changed in Autotask (everything with ``full``); returns counts per entity and ``stopped``."""
    client = client or AutotaskClient.for_worker()
    budget = Budget(current_app.config["AUTOTASK_DIRECTORY_REQUESTS"])
    counts: Counter = Counter()
    try:
        for entity in ENTITIES:
            state = _state(entity, full)
            if not _read(entity, state, client, budget, counts):
                counts["stopped"] += 1
                log.info(
                    "directory sync from Autotask paused at %s id %d (request budget spent)", entity, state.after_id
                )
                break
    except AutotaskUnavailable as error:
        db.session.rollback()
        counts["stopped"] += 1
        log.warning("directory sync from Autotask paused, resumes next run: %s", error)
    if any(counts[entity] for entity in ENTITIES):
        log.info("directory synced from Autotask: %s", ", ".join(f"{counts[e]} {e.lower()}" for e in ENTITIES))
    return counts


def _state(entity: str, full: bool) -> DirectorySync:
    state = db.session.get(DirectorySync, entity)
    if state is None:
        state = DirectorySync(entity=entity, after_id=0)
        db.session.add(state)
    if full:
        state.since, state.after_id, state.pass_started = None, 0, None
    if state.pass_started is None:
        started = datetime.now(UTC) - CLOCK_SLACK
        state.pass_started = started.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if entity in CHANGED_FIELD:
            state.after_id = 0
    db.session.commit()
    return state


def _read(entity: str, state: DirectorySync, client: AutotaskClient, budget: Budget, counts: Counter) -> bool:
    """Read the entity's pass to its end (True), or until the budget is spent (False)."""
    while True:
        if not budget.spend():
            return False
        conditions: list[dict[str, Any]] = [{"op": "gt", "field": "id", "value": state.after_id}]
        if entity in CHANGED_FIELD and state.since:
            conditions.append({"op": "gt", "field": CHANGED_FIELD[entity], "value": state.since})
        page = client.post(f"{entity}/query", {"filter": conditions, "maxRecords": PAGE_SIZE})
        items = sorted(page.get("items") or [], key=lambda item: int(item["id"]))
        if items:
            STORE[entity](items)
            state.after_id = int(items[-1]["id"])
            counts[entity] += len(items)
        if len(items) < PAGE_SIZE:
            if entity in CHANGED_FIELD:
                state.since, state.after_id = state.pass_started, 0
            state.pass_started = None
            db.session.commit()
            return True
        db.session.commit()


def _store_companies(items: list[dict]) -> None:
    ids = [int(item["id"]) for item in items]
    known = {c.autotask_id: c for c in db.session.scalars(select(Company).where(Company.autotask_id.in_(ids)))}
    for item in items:
        name = str(item.get("companyName") or f"Autotask company {item['id']}")[:200]
        company = known.get(int(item["id"])) or _unlinked_company(name)
        if company is None:
            company = Company(name=name, contract=Contract.NONE)
            db.session.add(company)
        company.autotask_id, company.name = int(item["id"]), name
        company.active = bool(item.get("isActive", True))


def _unlinked_company(name: str) -> Company | None:
    """A company the desk already had (CSV, admin pages) is linked to Autotask's by its name."""
    return db.session.scalars(
        select(Company).where(Company.autotask_id.is_(None), Company.name == name).limit(1)
    ).first()


def _store_contracts(items: list[dict]) -> None:
    for item in items:
        contract = db.session.get(AutotaskContract, int(item["id"])) or AutotaskContract(autotask_id=int(item["id"]))
        db.session.add(contract)
        contract.autotask_company_id = int(item["companyID"])
        contract.name = str(item.get("contractName") or "")[:200]
        contract.kind = kind_of(contract.name)
        contract.starts, contract.ends = _day(item.get("startDate")), _day(item.get("endDate"))
        contract.active = str(item.get("status")) == "1"
    db.session.flush()
    for company_id in {int(item["companyID"]) for item in items}:
        apply_contracts(company_id)


def kind_of(contract_name: str) -> str:
    """The contract kind a contract's name names (AUTOTASK_CONTRACT_KINDS), else none."""
    name = contract_name.casefold()
    found = {kind for words, kind in current_app.config["AUTOTASK_CONTRACT_KINDS"].items() if words.casefold() in name}
    return next((kind for kind in KIND_ORDER if kind in found), Contract.NONE)


def apply_contracts(autotask_company_id: int, today: date | None = None) -> None:
    """Give the company the best of its active contracts in force today (or none)."""
    company = db.session.scalars(select(Company).where(Company.autotask_id == autotask_company_id)).first()
    if company is None:
        return
    today = today or local().date()
    contracts = db.session.scalars(
        select(AutotaskContract).where(
            AutotaskContract.autotask_company_id == autotask_company_id, AutotaskContract.active
        )
    ).all()
    in_force = [c for c in contracts if (c.starts is None or c.starts <= today) and (c.ends is None or today <= c.ends)]
    best = min(
        in_force, key=lambda c: KIND_ORDER.index(c.kind) if c.kind in KIND_ORDER else len(KIND_ORDER), default=None
    )
    if best is None or best.kind == Contract.NONE:
        company.contract, company.contract_starts, company.contract_ends = Contract.NONE, None, None
    else:
        company.contract, company.contract_starts, company.contract_ends = best.kind, best.starts, best.ends


def _store_contacts(items: list[dict]) -> None:
    region = current_app.config["PHONE_REGION"]
    ids = [int(item["id"]) for item in items]
    known = {c.autotask_id: c for c in db.session.scalars(select(Contact).where(Contact.autotask_id.in_(ids)))}
    company_ids = {int(item["companyID"]) for item in items if item.get("companyID") is not None}
    companies = {
        c.autotask_id: c for c in db.session.scalars(select(Company).where(Company.autotask_id.in_(company_ids)))
    }
    numbers = {
        int(item["id"]): list(
            dict.fromkeys(n for f in CONTACT_PHONE_FIELDS if (n := phone.normalise(item.get(f), region)))
        )
        for item in items
    }
    owners = dict(
        db.session.execute(
            select(ContactPhone.e164, Contact.autotask_id)
            .join(Contact, Contact.id == ContactPhone.contact_id)
            .where(ContactPhone.e164.in_({n for found in numbers.values() for n in found}))
        ).all()
    )
    for item in items:
        autotask_id = int(item["id"])
        contact = known.get(autotask_id)
        if contact is None:
            contact = Contact(autotask_id=autotask_id)
            db.session.add(contact)
        full_name = f"{item.get('firstName') or ''} {item.get('lastName') or ''}".strip()
        contact.name = (full_name or f"Autotask contact {autotask_id}")[:200]
        contact.company = companies.get(int(item["companyID"])) if item.get("companyID") is not None else None
        contact.email = (item.get("emailAddress") or "").strip()[:254] or None
        contact.active = str(item.get("isActive", 1)) in ("1", "True", "true")
        contact.language = _language(item) or contact.language
        # A number is one contact's: one another contact already has stays theirs.
        mine = [n for n in numbers[autotask_id] if owners.get(n, autotask_id) == autotask_id]
        for n in mine:
            owners[n] = autotask_id
        kept = {p.e164: p for p in contact.phones}
        contact.phones = [kept.get(n) or ContactPhone(e164=n) for n in mine]
        db.session.flush()


def _language(item: dict) -> str | None:
    wanted = current_app.config["AUTOTASK_LANGUAGE_UDF"].casefold()
    for udf in item.get("userDefinedFields") or []:
        if str(udf.get("name", "")).casefold() == wanted and udf.get("value"):
            value = str(udf["value"]).strip().casefold()
            return value if value in LANGUAGES else LANGUAGE_NAMES.get(value)
    return None


def _day(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


STORE = {"Companies": _store_companies, "Contracts": _store_contracts, "Contacts": _store_contacts}


def sync_job() -> Counter:
    """RQ job (rq cron, every AUTOTASK_DIRECTORY_SECONDS): read the directory's changes from Autotask."""
    with job_context():
        return sync()
