"""What a company's contract includes (DESIGN §6)."""

from app.models import Contract

#: Contracts with on-site visits at no cost.
ONSITE_INCLUDED = frozenset({Contract.WISE, Contract.MAGIC})
#: Contracts with urgent support outside opening hours.
OUT_OF_HOURS_INCLUDED = frozenset({Contract.MAGIC})


def includes_onsite(contract: str | None) -> bool:
    return contract in ONSITE_INCLUDED


def includes_out_of_hours(contract: str | None) -> bool:
    return contract in OUT_OF_HOURS_INCLUDED
