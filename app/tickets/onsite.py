"""Planning an on-site visit on a ticket: at no cost when the contract includes it (DESIGN §6).

Basic (or no contract) pays for a visit, so planning one for them is refused
until the technician confirms it as billable.
"""

from datetime import datetime

from app.clock import local, utcnow
from app.directory.contracts import contract_of, describe, includes_onsite
from app.models import Ticket, TicketNote
from app.tickets import ticket_store
from app.wording import Invalid, worded


class OnsiteNotIncluded(Exception):
    """The customer's contract does not include on-site visits: this one would be billable."""

    def __init__(self, template: str, /, **values: object) -> None:
        super().__init__(worded(self, template, values))


def plan_onsite_visit(ticket: Ticket, when: datetime, technician_name: str, *, billable: bool = False) -> TicketNote:
    """Note a planned on-site visit on the ticket (in whichever store holds it) and return the note.

    ``when`` is naive UTC, like every time the desk stores; the note shows Brussels time.
    For a contract without on-site visits this raises ``OnsiteNotIncluded`` (its message
    is what to tell the technician) unless ``billable`` confirms the customer agreed to pay.
    """
    name = technician_name.strip()
    if not name:
        raise Invalid("Say which technician goes on site.")
    if when <= utcnow():
        raise Invalid("An on-site visit is planned for a time still to come.")
    contract = contract_of(ticket)
    moment = local(when).strftime("%a %d %b %Y %H:%M")
    if includes_onsite(contract):
        body = f"On-site visit planned on {moment} by {name}: included in {describe(contract)}, at no cost."
    elif not billable:
        raise OnsiteNotIncluded(
            "On-site visits are not included for this customer (%(contract)s): the visit is billable. "
            "Agree it with the customer, then plan it as billable.",
            contract=describe(contract),
        )
    else:
        body = f"On-site visit planned on {moment} by {name}: billable, not included ({describe(contract)})."
    return ticket_store().add_note(ticket, body)
