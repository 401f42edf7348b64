"""Follow changes made inside Autotask to the desk's open tickets.

Technicians also work tickets in Autotask itself: they change a title, set a
ticket to Waiting Customer, complete it. A lookup (a caller keying the number)
reads one ticket back; this job, run by ``rq cron`` every
``AUTOTASK_FOLLOW_SECONDS``, reads back every open ticket the desk mirrors, a few
hundred per request. A ticket completed in Autotask is closed in the desk as if
the desk had closed it — so its customer gets the satisfaction survey — without
pushing anything back. Tickets with a change of the desk's own still to push are
left alone: the push decides, as on lookup.
"""

import logging

from flask import current_app
from sqlalchemy import select

from app import surveys
from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskError
from app.autotask.picklists import Picklists
from app.clock import utcnow
from app.extensions import db
from app.models import AutotaskTicket, SyncState, Ticket
from app.queueing import job_context

log = logging.getLogger(__name__)

#: Ticket ids per query (Autotask answers at most 500 records a page).
IDS_PER_QUERY = 200
#: Desk statuses after which a ticket is no longer followed.
DONE = ("resolved", "closed")


def take_over(ticket: Ticket, link: AutotaskTicket, item: dict, picklists: Picklists) -> bool:
    """Apply Autotask's title and status to the local ticket (not committed); True when the status moved.

    Several desk statuses may share one Autotask label (resolved and closed: Complete);
    a ticket already on one of them stays. A ticket moved to a label the desk closes on
    (one mapped from ``closed``) is closed, with its survey requested by the caller.
    """
    label = picklists.label("Tickets", "status", item.get("status"))
    mapped = current_app.config["AUTOTASK_STATUS_LABELS"]
    # Only a title changed in Autotask is taken: one the desk changed since its last push stays.
    if item.get("title") and item["title"] != link.pushed_title:
        ticket.title = item["title"][:200]
        link.pushed_title = item["title"]
    if label is None or label.casefold() == mapped.get(ticket.status, "").casefold():
        return False
    shared = [local for local, other in mapped.items() if other.casefold() == label.casefold()]
    if not shared:
        return False
    status = "closed" if "closed" in shared else shared[0]
    ticket.status = link.pushed_status = status
    if status == "closed":
        ticket.closed_at = ticket.closed_at or utcnow()
    return True


def follow() -> dict[str, int]:
    """Read back every open, synced ticket; returns how many were read and how many changed or closed."""
    done = {"read": 0, "changed": 0, "closed": 0}
    if current_app.config["TICKET_STORE"] != "autotask":
        return done
    rows = db.session.execute(
        select(Ticket, AutotaskTicket)
        .join(AutotaskTicket, AutotaskTicket.ticket_id == Ticket.id)
        .where(
            AutotaskTicket.autotask_id.is_not(None),
            AutotaskTicket.sync_state == SyncState.SYNCED,
            Ticket.status.not_in(DONE),
        )
        .order_by(AutotaskTicket.autotask_id)
    ).all()
    by_id = {link.autotask_id: (ticket, link) for ticket, link in rows}
    if not by_id:
        return done
    client = AutotaskClient.for_worker()
    picklists = Picklists(client)
    ids = list(by_id)
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        items = client.query("Tickets", [{"op": "in", "field": "id", "value": chunk}], max_records=len(chunk))
        # A push may have started while Autotask answered: only tickets still synced are taken over.
        still_synced = set(
            db.session.scalars(
                select(AutotaskTicket.autotask_id).where(
                    AutotaskTicket.autotask_id.in_(chunk), AutotaskTicket.sync_state == SyncState.SYNCED
                )
            )
        )
        closed = []
        for item in items:
            autotask_id = int(item.get("id") or 0)
            if autotask_id not in still_synced:
                continue  # not one we asked for, or the desk has a change of its own to push
            ticket, link = by_id[autotask_id]
            done["read"] += 1
            if take_over(ticket, link, item, picklists):
                done["changed"] += 1
                if ticket.status == "closed":
                    closed.append(ticket)
        db.session.commit()
        for ticket in closed:
            surveys.request_survey(ticket)
            done["closed"] += 1
    if done["changed"]:
        log.info("followed Autotask: %s", done)
    return done


def follow_job() -> dict[str, int]:
    """The cron job; Autotask being unavailable waits for the next run."""
    with job_context():
        try:
            return follow()
        except AutotaskError as error:
            db.session.rollback()
            log.warning("Autotask changes not followed this time: %s", error)
            return {"read": 0, "changed": 0, "closed": 0}
