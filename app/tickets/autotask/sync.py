"""Pushing the desk's tickets, notes and statuses to Autotask, exactly once each.

The local ticket is always written first; Autotask follows, at once when it answers
and later when it does not (an RQ job with retries, and ``sync_pending()`` from the
cron sweep). Three rules keep Autotask free of duplicates:

- a sync holds the ticket (a lease taken by compare-and-set), so two workers never
  push the same ticket at once;
- a create is never repeated blindly: before creating again, the ticket is looked up
  by its ``externalID`` (the desk's reference) and a note by its title;
- after a failure the ticket waits (AUTOTASK_BACKOFF_SECONDS, doubling up to
  AUTOTASK_MAX_BACKOFF_SECONDS) before the next try, long enough for a create still in
  flight to land and be found; the cap is short so that a ticket opened during a short
  outage reaches Autotask soon after it answers again (the sweep stops at the first
  failure, so a long outage costs about one request per sweep, not one per ticket).
"""

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_, select, update

from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskError, AutotaskServerError, AutotaskUnavailable
from app.autotask.picklists import Picklists
from app.clock import utcnow
from app.extensions import db
from app.models import AutotaskNote, AutotaskTicket, Incident, SyncState, Ticket, TicketNote
from app.queueing import enqueue, job_context, queue, redis_connection

log = logging.getLogger(__name__)

#: How long a sync may hold a ticket; longer than any request timeout, so a crashed sync lets go.
LEASE_SECONDS = 120
#: Tickets pushed per cron sweep.
SWEEP_LIMIT = 50
#: One sweep job at a time: the reconciler queues it under this id.
SWEEP_JOB_ID = "autotask-sweep"
SYNC_RETRY = Retry(max=8, interval=[30, 60, 120, 300, 600, 1800, 3600, 3600])


def note_title(note: TicketNote) -> str:
    """The title a note gets in Autotask; the desk finds a note it may already have sent by it."""
    return f"Phone desk note {note.id}"


class SyncBusy(Exception):
    """Another worker holds the ticket, or it waits after a failure: try again later."""


# -- bookkeeping ------------------------------------------------------------------------------------


def mark_pending(ticket_id: int) -> bool:
    """Note that the ticket has something new to push (in the caller's transaction)."""
    statement = (
        update(AutotaskTicket)
        .where(AutotaskTicket.ticket_id == ticket_id)
        .values(sync_state=SyncState.PENDING, changes=AutotaskTicket.changes + 1)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def claim(ticket_id: int, seconds: int = LEASE_SECONDS) -> bool:
    """Take the ticket's lease if it is free; of two workers only one UPDATE matches."""
    now = utcnow()
    statement = (
        update(AutotaskTicket)
        .where(
            AutotaskTicket.ticket_id == ticket_id,
            or_(AutotaskTicket.lease_until.is_(None), AutotaskTicket.lease_until < now),
        )
        .values(lease_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(statement).rowcount == 1


def finish(ticket_id: int, changes_seen: int) -> bool:
    """Release the lease; the ticket is synced only if nothing changed while it was pushed."""
    done = db.session.execute(
        update(AutotaskTicket)
        .where(AutotaskTicket.ticket_id == ticket_id, AutotaskTicket.changes == changes_seen)
        .values(sync_state=SyncState.SYNCED, lease_until=None, failures=0, last_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.execute(
            update(AutotaskTicket)
            .where(AutotaskTicket.ticket_id == ticket_id)
            .values(lease_until=None, failures=0, last_error=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return done == 1


def record_failure(ticket_id: int, error: AutotaskError) -> None:
    """Keep the error for people to see and hold the ticket back before the next try."""
    db.session.rollback()
    link = db.session.get(AutotaskTicket, ticket_id, populate_existing=True)
    link.failures += 1
    link.last_error = str(error)[:500]
    config = current_app.config
    wait = min(config["AUTOTASK_BACKOFF_SECONDS"] * 2 ** (link.failures - 1), config["AUTOTASK_MAX_BACKOFF_SECONDS"])
    link.lease_until = utcnow() + timedelta(seconds=wait)
    db.session.commit()
    log.warning("Autotask sync of ticket %s failed (%d in a row): %s", ticket_id, link.failures, error)


def queue_sync(ticket_id: int) -> bool:
    """Ask a worker to push the ticket; if Redis is down the cron sweep finds it anyway."""
    return enqueue("notify", "app.tickets.autotask.sync.sync_ticket_job", ticket_id, retry=SYNC_RETRY)


# -- pushing ----------------------------------------------------------------------------------------


def description_of(ticket: Ticket) -> str:
    """The Autotask ticket's description: what the caller said, their number, urgency, the recording."""
    lines = [ticket.description] if ticket.description else []
    if ticket.caller_phone:
        lines.append(f"Caller: {ticket.caller_phone}")
    if ticket.urgency or ticket.impact:
        lines.append(f"Urgency: {ticket.urgency or 'unknown'}; affected: {ticket.impact or 'unknown'}")
    if ticket.recording_url:
        lines.append(f"Recording: {ticket.recording_url}")
    return "\n".join(lines)[:8000]


def ticket_body(ticket: Ticket, link: AutotaskTicket, picklists: Picklists) -> dict[str, Any]:
    """The Autotask ticket for a local one; picklist values looked up by their configured labels."""
    config = current_app.config
    hours = config["AUTOTASK_DUE_HOURS"].get(ticket.priority, 24)
    body: dict[str, Any] = {
        "title": ticket.title[:255],
        "description": description_of(ticket),
        "status": picklists.status(ticket.status),
        "priority": picklists.priority(ticket.priority),
        "companyID": link.autotask_company_id
        if link.autotask_company_id is not None
        else config["AUTOTASK_DEFAULT_COMPANY_ID"],
        "dueDateTime": (ticket.created_at + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "externalID": link.reference,
    }
    if link.autotask_contact_id is not None:
        body["contactID"] = link.autotask_contact_id
    for field_name, setting in (("source", "AUTOTASK_SOURCE_LABEL"), ("queueID", "AUTOTASK_QUEUE_LABEL")):
        value = picklists.optional("Tickets", field_name, setting)
        if value is not None:
            body[field_name] = value
    return body


def push(ticket: Ticket, link: AutotaskTicket, client: AutotaskClient, *, fresh: bool = False) -> None:
    """Bring Autotask up to date with the local ticket: the ticket, its number, notes, status.

    ``fresh`` says the ticket's reference has never been sent, so there is nothing to look up.
    Each step is committed as soon as Autotask confirms it, so a failure later loses nothing.
    """
    picklists = Picklists(client)
    if link.autotask_id is None:
        found = (
            None if fresh else client.first("Tickets", [{"op": "eq", "field": "externalID", "value": link.reference}])
        )
        if found is not None:
            link.autotask_id = int(found["id"])
            # What Autotask has is what was pushed: only what differs from it is PATCHed below, so a
            # change made in Autotask meanwhile is not overwritten with the same old values.
            link.pushed_status = picklists.local_status(found.get("status"))
            link.pushed_priority = picklists.local_priority(found.get("priority"))
            link.pushed_title, link.pushed_description = found.get("title"), found.get("description")
            log.info(
                "ticket %s was already in Autotask (%s): its create had been answered too late", ticket.id, found["id"]
            )
        else:
            body = ticket_body(ticket, link, picklists)
            created = client.post("Tickets", body)
            link.autotask_id = int(created["itemId"])
            link.pushed_status, link.pushed_priority = ticket.status, ticket.priority
            link.pushed_title, link.pushed_description = body["title"], body["description"]
        db.session.commit()
    if link.provisional_number is not None and ticket.number == link.provisional_number:
        item = client.get(f"Tickets/{link.autotask_id}").get("item") or {}
        if not item.get("ticketNumber"):
            raise AutotaskServerError(f"Autotask ticket {link.autotask_id} came back without a ticketNumber.")
        make_way_for(item["ticketNumber"], ticket)
        ticket.number = item["ticketNumber"]
        db.session.commit()
    pending = select(TicketNote).where(
        TicketNote.ticket_id == ticket.id, TicketNote.id.not_in(select(AutotaskNote.note_id))
    )
    for note in db.session.scalars(pending.order_by(TicketNote.id)).all():
        push_note(note, link, client, picklists)
    changes: dict[str, Any] = {}
    if ticket.status != link.pushed_status:
        changes["status"] = picklists.status(ticket.status)
    if ticket.priority != link.pushed_priority:
        changes["priority"] = picklists.priority(ticket.priority)
    title, description = ticket.title[:255], description_of(ticket)
    # Tickets mirrored before the desk kept these have None: they are not pushed blindly.
    if link.pushed_title is not None and title != link.pushed_title:
        changes["title"] = title
    if link.pushed_description is not None and description != link.pushed_description:
        changes["description"] = description
    if changes:
        client.patch("Tickets", {"id": link.autotask_id, **changes})
        link.pushed_status, link.pushed_priority = ticket.status, ticket.priority
        if "title" in changes or "description" in changes:
            link.pushed_title, link.pushed_description = title, description
        db.session.commit()
    push_incident_link(ticket, link, client, picklists)


def wanted_type(ticket: Ticket) -> str | None:
    """Where the ticket stands in an incident, as ``pushed_type`` records it; None: nowhere (yet).

    A caller's ticket can only point at its problem once Autotask has the incident's
    ticket as a Problem; until then it waits (the problem's push marks it pending).
    """
    if db.session.scalar(select(Incident.id).where(Incident.ticket_id == ticket.id)) is not None:
        return "problem"
    if ticket.problem_ticket_id is None:
        return None
    parent = db.session.get(AutotaskTicket, ticket.problem_ticket_id)
    if parent is None or parent.autotask_id is None or parent.pushed_type != "problem":
        return None
    return f"incident:{parent.autotask_id}"


def push_incident_link(ticket: Ticket, link: AutotaskTicket, client: AutotaskClient, picklists: Picklists) -> None:
    """An incident's ticket is a Problem; a caller's ticket linked to it an Incident whose problemTicketId names it.

    Both types are looked up by their configured labels in the ticketType picklist.
    """
    wanted = wanted_type(ticket)
    if wanted is None or wanted == link.pushed_type:
        return
    config = current_app.config
    changes: dict[str, Any] = {"id": link.autotask_id}
    if wanted == "problem":
        changes["ticketType"] = picklists.value("Tickets", "ticketType", config["AUTOTASK_PROBLEM_TYPE_LABEL"])
    else:
        changes["ticketType"] = picklists.value("Tickets", "ticketType", config["AUTOTASK_INCIDENT_TYPE_LABEL"])
        changes["problemTicketId"] = int(wanted.partition(":")[2])
    client.patch("Tickets", changes)
    link.pushed_type = wanted
    if wanted == "problem":
        # Callers' tickets linked before Autotask had the problem can point at it now.
        for child_id in db.session.scalars(select(Ticket.id).where(Ticket.problem_ticket_id == ticket.id)):
            mark_pending(child_id)
    db.session.commit()


def make_way_for(number: str, ticket: Ticket) -> None:
    """Autotask's number is the ticket's; a ticket of the SQL store holding it steps aside.

    Only tickets opened before the desk switched to Autotask can hold it (the two counters
    use the same format): that one is renumbered ``<number>-desk`` and says so in a note.
    """
    clash = db.session.scalars(select(Ticket).where(Ticket.number == number, Ticket.id != ticket.id)).first()
    if clash is None:
        return
    clash.number = f"{number}-desk"
    db.session.add(
        TicketNote(ticket_id=clash.id, body=f"Renumbered from {number}: Autotask gave that number to another ticket.")
    )
    db.session.flush()
    log.warning(
        "ticket %s of the SQL store renumbered %s: Autotask gave its number to ticket %s",
        clash.id,
        clash.number,
        ticket.id,
    )


def push_note(note: TicketNote, link: AutotaskTicket, client: AutotaskClient, picklists: Picklists) -> None:
    """Add one note to the Autotask ticket, unless an earlier try already did."""
    title = note_title(note)
    found = client.first(
        "TicketNotes",
        [
            {"op": "eq", "field": "ticketID", "value": link.autotask_id},
            {"op": "eq", "field": "title", "value": title},
        ],
    )
    if found is not None:
        autotask_id = int(found["id"])
    else:
        config = current_app.config
        body = {
            "ticketID": link.autotask_id,
            "title": title,
            "description": note.body[:32000],
            "noteType": picklists.value("TicketNotes", "noteType", config["AUTOTASK_NOTE_TYPE_LABEL"]),
            "publish": picklists.value("TicketNotes", "publish", config["AUTOTASK_NOTE_PUBLISH_LABEL"]),
        }
        autotask_id = int(client.post(f"Tickets/{link.autotask_id}/Notes", body)["itemId"])
    db.session.add(AutotaskNote(note_id=note.id, autotask_id=autotask_id))
    db.session.commit()


def sync_ticket(ticket_id: int, client: AutotaskClient | None = None) -> bool:
    """Push one ticket now; True when Autotask has everything. Raises SyncBusy or AutotaskError."""
    if not claim(ticket_id):
        db.session.rollback()
        raise SyncBusy(f"ticket {ticket_id} is being pushed by another worker or waits after a failure")
    db.session.commit()
    link = db.session.get(AutotaskTicket, ticket_id, populate_existing=True)
    changes_seen = link.changes
    try:
        push(link.ticket, link, client or AutotaskClient.for_worker())
    except AutotaskError as error:
        record_failure(ticket_id, error)
        raise
    return finish(ticket_id, changes_seen)


def sync_pending(limit: int = SWEEP_LIMIT) -> int:
    """The cron sweep: push tickets left pending (Autotask was down, Redis lost the job).

    Stops at the first sign that Autotask is unavailable, so a down instance is asked
    once per sweep, not once per ticket. Never raises an Autotask error (the reconciler
    calls it); returns how many tickets are now synced.
    """
    if current_app.config["TICKET_STORE"] != "autotask":
        return 0
    due = db.session.scalars(
        select(AutotaskTicket.ticket_id)
        .where(
            AutotaskTicket.sync_state == SyncState.PENDING,
            or_(AutotaskTicket.lease_until.is_(None), AutotaskTicket.lease_until < utcnow()),
        )
        .order_by(AutotaskTicket.ticket_id)
        .limit(limit)
    ).all()
    db.session.rollback()
    if not due:
        return 0
    try:
        client = AutotaskClient.for_worker()
    except AutotaskError as error:
        log.error("%d tickets wait for Autotask: %s", len(due), error)
        return 0
    synced = 0
    for ticket_id in due:
        try:
            synced += sync_ticket(ticket_id, client)
        except SyncBusy:
            continue
        except AutotaskUnavailable:
            break
        except AutotaskError:
            continue  # this ticket needs a person (logged); the others may still go through
    return synced


def sweep_job() -> int:
    """``rq cron``'s Autotask sweep (callbacks/cron.py): queue a push of what waits."""
    with job_context():
        return queue_sweep()


def queue_sweep() -> int:
    """Ask a worker to run ``sync_pending`` when tickets wait, at most one at a time; 1 when one was queued."""
    if current_app.config["TICKET_STORE"] != "autotask":
        return 0
    waiting = db.session.scalar(
        select(AutotaskTicket.ticket_id)
        .where(
            AutotaskTicket.sync_state == SyncState.PENDING,
            or_(AutotaskTicket.lease_until.is_(None), AutotaskTicket.lease_until < utcnow()),
        )
        .limit(1)
    )
    db.session.rollback()
    if waiting is None:
        return 0
    try:
        existing = Job.fetch(SWEEP_JOB_ID, connection=redis_connection())
    except NoSuchJobError:
        existing = None
    except Exception:
        log.exception("could not look for the Autotask sweep job")
        return 0
    if existing is not None and existing.get_status() in (JobStatus.QUEUED, JobStatus.STARTED):
        return 0
    try:
        queue("notify").enqueue(
            "app.tickets.autotask.sync.sync_pending_job", job_id=SWEEP_JOB_ID, job_timeout=600, result_ttl=60
        )
    except Exception:
        log.exception("could not queue the Autotask sweep")
        return 0
    return 1


def sync_ticket_job(ticket_id: int) -> bool:
    """RQ job: push one ticket. Raising lets RQ retry it later (SYNC_RETRY)."""
    with job_context():
        return sync_ticket(ticket_id)


def sync_pending_job() -> int:
    """RQ job form of the sweep, for ``rq cron``."""
    with job_context():
        return sync_pending()
