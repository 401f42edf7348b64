"""The local SQL ticket store: tickets in the desk's own database, numbered ``T<yyyymmdd>.<nnnn>``."""

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import clock, surveys
from app.clock import utcnow
from app.extensions import db
from app.models import Ticket, TicketCounter, TicketNote
from app.sql import insert_ignoring_conflicts
from app.tickets import TicketStore

log = logging.getLogger(__name__)


def next_ticket_number(now: datetime | None = None, first: int = 1) -> str:
    """Take the next number of today's (Brussels) counter in the current transaction.

    The counter row's UPDATE locks it until the ticket is committed, so two
    concurrent calls are serialised on it instead of reading the same value.
    ``first`` is the day's first number (the Autotask store's provisional range).
    """
    day = clock.local(now).strftime("%Y%m%d")
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
    return f"T{day}.{last + first - 1:04d}"


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
        log.info("ticket %s opened (P%s): %s", ticket.number, ticket.priority, ticket.title)
        return ticket

    def add_note(self, ticket: Ticket, body: str) -> TicketNote:
        note = TicketNote(ticket_id=ticket.id, body=body)
        log.info("ticket %s: %s", ticket.number, body)
        db.session.add(note)
        self._changed(ticket)
        db.session.commit()
        self._push_later(ticket)
        return note

    def set_status(self, ticket: Ticket, status: str) -> None:
        ticket.status = status
        self._changed(ticket)
        db.session.commit()
        self._push_later(ticket)

    def close(self, ticket: Ticket) -> None:
        ticket.status = "closed"
        ticket.closed_at = ticket.closed_at or utcnow()
        self._changed(ticket)
        db.session.commit()
        self._push_later(ticket)
        surveys.request_survey(ticket)

    def details_changed(self, ticket: Ticket) -> None:
        self._changed(ticket)
        db.session.commit()
        self._push_later(ticket)

    def _changed(self, ticket: Ticket) -> None:
        """Hook: a change to the ticket is about to be committed (another system may need it)."""

    def _push_later(self, ticket: Ticket) -> None:
        """Hook: a change was committed."""

    def _by_call(self, call_sid: str) -> Ticket | None:
        return db.session.scalars(select(Ticket).where(Ticket.origin_call_sid == call_sid)).first()
