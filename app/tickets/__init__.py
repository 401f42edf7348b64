"""Where tickets live: the ``TicketStore`` interface and the choice of store.

The IVR and the engine only talk to ``ticket_store()``, so Autotask can stand behind
the same calls (``TICKET_STORE=autotask``, app/tickets/autotask/) as the desk's own
database (app/tickets/sql.py). The local store numbers tickets ``T<yyyymmdd>.<nnnn>``
with a per-day counter row, so concurrent calls never get the same number. In both
stores the local row is written first and every note is kept locally; closing a
ticket asks for its satisfaction survey (once per ticket, ever).
"""

from abc import ABC, abstractmethod

from flask import current_app

from app.models import Ticket, TicketNote


class TicketStore(ABC):
    """What the desk needs from a ticketing system."""

    @abstractmethod
    def find(self, number: str) -> Ticket | None:
        """The ticket with this number, or None."""

    @abstractmethod
    def create(self, *, origin_call_sid: str | None = None, **fields) -> Ticket:
        """Open a ticket. With ``origin_call_sid`` a second create for that call returns the first."""

    @abstractmethod
    def add_note(self, ticket: Ticket, body: str) -> TicketNote:
        """Append a note to the ticket's history."""

    @abstractmethod
    def set_status(self, ticket: Ticket, status: str) -> None:
        """Move the ticket to another status."""

    @abstractmethod
    def close(self, ticket: Ticket) -> None:
        """Close a resolved ticket and ask the customer for a rating (once per ticket)."""

    @abstractmethod
    def details_changed(self, ticket: Ticket) -> None:
        """The ticket's title or description changed (a transcript came after the create): commit, pass it on."""


def ticket_store() -> TicketStore:
    """The store the desk works with: ``TICKET_STORE`` is ``sql`` (the default) or ``autotask``."""
    choice = current_app.config["TICKET_STORE"]
    if choice == "autotask":
        from app.tickets.autotask.store import AutotaskTicketStore

        return AutotaskTicketStore()
    if choice != "sql":
        raise ValueError(f"TICKET_STORE must be 'sql' or 'autotask', not {choice!r}")
    from app.tickets.sql import SqlTicketStore

    return SqlTicketStore()
