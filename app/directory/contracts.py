"""What a company's contract includes (DESIGN §6).

Wise and Magic include on-site visits at no cost; Magic also includes urgent
support outside opening hours. Basic (or no contract) pays for a visit
(app/tickets/onsite.py).
"""

from app.models import Contract, Ticket

#: Contracts with on-site visits at no cost.
ONSITE_INCLUDED = frozenset({Contract.WISE, Contract.MAGIC})
#: Contracts with urgent support outside opening hours.
OUT_OF_HOURS_INCLUDED = frozenset({Contract.MAGIC})
CONTRACT_NAMES = {Contract.BASIC: "Basic", Contract.WISE: "Wise", Contract.MAGIC: "Magic"}


def includes_onsite(contract: str | None) -> bool:
    return contract in ONSITE_INCLUDED


def includes_out_of_hours(contract: str | None) -> bool:
    return contract in OUT_OF_HOURS_INCLUDED


def contract_of(ticket: Ticket) -> str:
    company = ticket.customer_company
    return company.contract if company is not None else Contract.NONE


def describe(contract: str | None) -> str:
    """``the Wise contract``, or ``no contract``."""
    name = CONTRACT_NAMES.get(contract)
    return f"the {name} contract" if name else "no contract"
