"""Where tickets live: the ``TicketStore`` interface and the local SQL store.

The IVR and the engine only talk to a store, so another ticketing system can
stand behind the same calls. The local store numbers tickets ``T<yyyymmdd>.<nnnn>`` with
a per-day counter row, so concurrent calls never get the same number.
"""

from abc import ABC, abstractmethod
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Ticket, TicketCounter, TicketNote, utcnow
from app.sql import insert_ignoring_conflicts

DESK_TIMEZONE = ZoneInfo("Europe/Brussels")


class TicketStore(ABC):
    """What the desk needs from a ticketing system."""

    @abstractmethod
    def find(self, number: str) -> Ticket | None:
        """The ticket with this number, or None."""

    @abstractmethod
    def create(self, *, origin_call_sid: str | None = None, **fields) -> Ticket:
        """Open a ticket. With ``origin_call_sid`` a second create for that call returns the first."""

    @abstractmethod
    def add_note(self, ticket: Ticket, body: str) -> None:
        """Append a note to the ticket's history."""

    @abstractmethod
    def set_status(self, ticket: Ticket, status: str) -> None:
        """Move the ticket to another status."""

    @abstractmethod
    def close(self, ticket: Ticket) -> None:
        """Close a resolved ticket."""


def next_ticket_number(now: datetime | None = None) -> str:
    """Take the next number of today's (Brussels) counter in the current transaction.

    The counter row's UPDATE locks it until the ticket is committed, so two
    concurrent calls are serialised on it instead of reading the same value.
    """
    local = (now or utcnow()).replace(tzinfo=ZoneInfo("UTC")).astimezone(DESK_TIMEZONE)
    day = local.strftime("%Y%m%d")
    bump = (
        update(TicketCounter)
        .where(TicketCounter.day == day)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    )
    last = db.session.execute(bump).scalar()
    if last is None:
        insert_ignoring_conflicts(TicketCounter, day=day, last=0)
        last = db.session.execute(bump).scalar_one()
    return f"T{day}.{last:04d}"


class SqlTicketStore(TicketStore):
    """Tickets in the desk's own database."""

    def find(self, number: str) -> Ticket | None:
        return db.session.scalars(select(Ticket).where(Ticket.number == number)).first()

    def create(self, *, origin_call_sid: str | None = None, **fields) -> Ticket:
        if origin_call_sid:
            existing = self._by_call(origin_call_sid)
            if existing:
                return existing
        ticket = Ticket(number=next_ticket_number(), origin_call_sid=origin_call_sid, **fields)
        db.session.add(ticket)
        try:
            db.session.commit()
        except IntegrityError:
            # The same webhook, delivered twice at once, lost the race to its twin.
            db.session.rollback()
            existing = self._by_call(origin_call_sid) if origin_call_sid else None
            if existing is None:
                raise
            return existing
        return ticket

    def add_note(self, ticket: Ticket, body: str) -> None:
        db.session.add(TicketNote(ticket_id=ticket.id, body=body))
        db.session.commit()

    def set_status(self, ticket: Ticket, status: str) -> None:
        ticket.status = status
        db.session.commit()

    def close(self, ticket: Ticket) -> None:
        ticket.status = "closed"
        ticket.closed_at = utcnow()
        db.session.commit()

    def _by_call(self, call_sid: str) -> Ticket | None:
        return db.session.scalars(select(Ticket).where(Ticket.origin_call_sid == call_sid)).first()


def ticket_store() -> TicketStore:
    """The store the desk works with."""
    return SqlTicketStore()
