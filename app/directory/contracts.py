"""What a company's contract includes (DESIGN §6).

Wise and Magic include on-site visits at no cost; Magic also includes urgent
support outside opening hours. Basic (or no contract) pays for a visit
(app/tickets/onsite.py).
"""

from datetime import date

from app.clock import local
from app.models import Company, Contract, Ticket

#: Contracts with on-site visits at no cost.
ONSITE_INCLUDED = frozenset({Contract.WISE, Contract.MAGIC})
#: Contracts with urgent support outside opening hours.
OUT_OF_HOURS_INCLUDED = frozenset({Contract.MAGIC})
CONTRACT_NAMES = {Contract.BASIC: "Basic", Contract.WISE: "Wise", Contract.MAGIC: "Magic"}


def includes_onsite(contract: str | None) -> bool:
    return contract in ONSITE_INCLUDED


def includes_out_of_hours(contract: str | None) -> bool:
    return contract in OUT_OF_HOURS_INCLUDED


def in_force(company: Company | None, today: date | None = None) -> str:
    """The company's contract on ``today`` (the desk's date): none before it starts or after it ends."""
    if company is None:
        return Contract.NONE
    today = today or local().date()
    if (company.contract_starts and today < company.contract_starts) or (
        company.contract_ends and today > company.contract_ends
    ):
        return Contract.NONE
    return company.contract


def contract_of(ticket: Ticket) -> str:
    return in_force(ticket.customer_company)


def describe(contract: str | None) -> str:
    """``the Wise contract``, or ``no contract``."""
    name = CONTRACT_NAMES.get(contract)
    return f"the {name} contract" if name else "no contract"
