"""The Autotask ticket store: Autotask is the ticketing system, the local row its mirror.

Callbacks, calls and surveys point at the local ticket row, so it is written first,
in both stores. Here it also gets an ``AutotaskTicket`` link, and Autotask is asked to
follow at once (within the caller's time budget) and later by a job when it cannot.
While Autotask is unreachable the ticket carries a provisional number from the
desk's own counter, ``T<yyyymmdd>.9nnn``: the caller hears it, and it keeps finding the
ticket after Autotask's own number has replaced it.
"""

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import surveys
from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskError
from app.autotask.picklists import Picklists
from app.clock import utcnow
from app.directory import autotask_phones as phones
from app.extensions import db
from app.models import AutotaskTicket, SyncState, Ticket
from app.tickets.autotask import follow, sync
from app.tickets.sql import SqlTicketStore, next_ticket_number

log = logging.getLogger(__name__)

#: Provisional numbers start here, far above any day's real Autotask count.
PROVISIONAL_FROM = 9000


class AutotaskTicketStore(SqlTicketStore):
    """Tickets in Autotask, mirrored locally; local writes never wait for Autotask to come back."""

    def find(self, number: str) -> Ticket | None:
        """A local ticket (by its number or the provisional one), else Autotask's, mirrored here."""
        ticket = super().find(number) or self._by_provisional(number)
        try:
            client = AutotaskClient.for_caller()
            if ticket is not None:
                self._refresh(ticket, client)
                return ticket
            item = client.first("Tickets", [{"op": "eq", "field": "ticketNumber", "value": number}])
            return self._mirror(item, client) if item else None
        except AutotaskError as error:
            db.session.rollback()
            log.warning("Autotask could not be asked about ticket %s: %s", number, error)
            return ticket

    def create(self, *, origin_call_sid: str | None = None, **fields) -> Ticket:
        if origin_call_sid and (existing := self._by_call(origin_call_sid)):
            return existing
        number = next_ticket_number(first=PROVISIONAL_FROM + 1)
        ticket = Ticket(number=number, origin_call_sid=origin_call_sid, **fields)
        matched = phones.match(ticket.caller_phone)
        link = AutotaskTicket(
            ticket=ticket,
            reference=f"desk-{uuid.uuid4().hex[:24]}",
            provisional_number=number,
            autotask_company_id=matched.company_id if matched else None,
            autotask_contact_id=matched.contact_id if matched else None,
            # Held while this request creates it in Autotask; no sweep may create it meanwhile.
            lease_until=utcnow() + timedelta(seconds=sync.LEASE_SECONDS),
        )
        db.session.add_all([ticket, link])
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            existing = self._by_call(origin_call_sid) if origin_call_sid else None
            if existing is None:
                raise
            return existing
        try:
            sync.push(ticket, link, AutotaskClient.for_caller(), fresh=True)
        except AutotaskError as error:
            sync.record_failure(ticket.id, error)
            self.add_note(
                ticket,
                f"Opened while Autotask could not be reached ({type(error).__name__}): the desk gave it the "
                f"provisional number {number} (the one a caller hears), which still finds this ticket.",
            )
        else:
            sync.finish(ticket.id, changes_seen=0)
        return ticket

    def _changed(self, ticket: Ticket) -> None:
        sync.mark_pending(ticket.id)

    def _push_later(self, ticket: Ticket) -> None:
        if db.session.get(AutotaskTicket, ticket.id) is not None:
            sync.queue_sync(ticket.id)

    def _by_provisional(self, number: str) -> Ticket | None:
        return db.session.scalars(
            select(Ticket).join(AutotaskTicket).where(AutotaskTicket.provisional_number == number)
        ).first()

    def _refresh(self, ticket: Ticket, client: AutotaskClient) -> None:
        """Take over title and status changed in Autotask, unless the desk has a change of its own to push."""
        link = db.session.get(AutotaskTicket, ticket.id)
        if link is None or link.autotask_id is None or link.sync_state != SyncState.SYNCED:
            return
        item = client.get(f"Tickets/{link.autotask_id}").get("item")
        if not item:
            return
        moved = follow.take_over(ticket, link, item, Picklists(client))
        db.session.commit()
        if moved and ticket.status == "closed":
            surveys.request_survey(ticket)  # completed in Autotask: the customer is asked, as when the desk closes

    def _mirror(self, item: dict, client: AutotaskClient) -> Ticket:
        """A local copy of a ticket opened in Autotask itself (by mail, the portal, a technician)."""
        picklists = Picklists(client)
        status = picklists.local_status(item.get("status")) or "in_progress"
        priority = picklists.local_priority(item.get("priority")) or 3
        ticket = Ticket(
            number=item["ticketNumber"],
            title=(item.get("title") or "")[:200],
            description=item.get("description") or "",
            status=status,
            priority=priority,
        )
        link = AutotaskTicket(
            ticket=ticket,
            autotask_id=int(item["id"]),
            reference=f"autotask-{item['id']}",
            autotask_company_id=item.get("companyID"),
            autotask_contact_id=item.get("contactID"),
            sync_state=SyncState.SYNCED,
            pushed_status=status,
            pushed_priority=priority,
            pushed_title=item.get("title"),
        )
        db.session.add_all([ticket, link])
        try:
            db.session.commit()
        except IntegrityError:
            # Another caller's lookup mirrored it first.
            db.session.rollback()
            return db.session.scalars(select(Ticket).where(Ticket.number == item["ticketNumber"])).one()
        return ticket
