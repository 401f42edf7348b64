"""Companies: the desk's customers, their contract and their switchboard numbers."""

from datetime import date

from sqlalchemy import func, select

from app import phone
from app.directory import InvalidRecord
from app.extensions import db
from app.models import Company, CompanyPhone, Contract


def company_named(name: str) -> Company | None:
    """The company with this name, whatever its case or surrounding spaces."""
    return db.session.scalars(select(Company).where(func.lower(Company.name) == name.strip().lower())).first()


def save_company(
    company: Company | None,
    *,
    name: str,
    contract: str,
    numbers: list[str],
    contract_starts: date | None = None,
    contract_ends: date | None = None,
    active: bool = True,
) -> Company:
    """Add (``company`` None) or change a company after checking it; the caller commits."""
    name, contract = name.strip(), (contract or Contract.NONE).strip().lower()
    if not name:
        raise InvalidRecord("a company needs a name")
    if contract not in set(Contract):
        raise InvalidRecord(
            "the contract is one of %(contracts)s, not %(contract)r", contracts=", ".join(Contract), contract=contract
        )
    if contract_starts and contract_ends and contract_ends < contract_starts:
        raise InvalidRecord("the contract ends before it starts")
    namesake = company_named(name)
    if namesake is not None and namesake is not company:
        raise InvalidRecord("there is already a company named %(name)s", name=namesake.name)
    taken = db.session.scalars(
        select(CompanyPhone).where(
            CompanyPhone.e164.in_(numbers), CompanyPhone.company_id != (company.id if company and company.id else -1)
        )
    ).first()
    if taken is not None:
        raise InvalidRecord(
            "%(number)s is already the number of %(owner)s", number=phone.display(taken.e164), owner=taken.company.name
        )
    if company is None:
        company = Company()
        db.session.add(company)
    company.name, company.contract, company.active = name[:200], contract, active
    company.contract_starts, company.contract_ends = contract_starts, contract_ends
    kept = {number.e164: number for number in company.phones}
    company.phones = [kept.get(e164) or CompanyPhone(e164=e164) for e164 in numbers]
    return company
