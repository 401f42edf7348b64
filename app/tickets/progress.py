"""The ticket status moving with the work (DESIGN §6), in whichever store keeps the tickets.

new → in progress when a callback reaches the customer or an urgent call is put through;
→ waiting for customer when the last attempt did not reach them; a later callback that
reaches them moves it back to in progress. Closing (the console, or Autotask) is
``TicketStore.close``; the engine never moves a resolved or closed ticket.
"""

from app.models import Ticket, TicketStatus
from app.tickets import ticket_store

#: The statuses the engine may move a ticket from, per status it moves it to.
MOVES_FROM = {
    TicketStatus.IN_PROGRESS: (TicketStatus.NEW, TicketStatus.WAITING_CUSTOMER),
    TicketStatus.WAITING_CUSTOMER: (TicketStatus.NEW, TicketStatus.IN_PROGRESS),
}


def move(ticket: Ticket, status: TicketStatus) -> bool:
    """Set the ticket's status if the work may move it there; True when it moved."""
    if ticket.status not in MOVES_FROM[status]:
        return False
    ticket_store().set_status(ticket, status)
    return True


def work_started(ticket: Ticket) -> bool:
    return move(ticket, TicketStatus.IN_PROGRESS)


def customer_unreachable(ticket: Ticket) -> bool:
    return move(ticket, TicketStatus.WAITING_CUSTOMER)
