"""``flask --app app autotask …``: check a connection, rebuild the phone index, push what waits."""

import click
from flask import current_app
from sqlalchemy import func, select

from app.autotask.client import AutotaskClient
from app.autotask.errors import AutotaskError
from app.autotask.picklists import Picklists
from app.directory import autotask_phones as phones
from app.directory import autotask_sync as directory_sync
from app.extensions import db
from app.models import AutotaskTicket, SyncState
from app.tickets.autotask import sync


@click.group("autotask")
def autotask_group() -> None:
    """Autotask PSA: check the connection, rebuild the phone index, push pending tickets."""


@autotask_group.command("check")
def check() -> None:
    """Find the zone, log in, and check that every configured label exists in this instance."""
    config = current_app.config
    try:
        client = AutotaskClient.for_worker()
        click.echo(f"API root: {client.api_url()}")
        usage = client.get("ThresholdInformation")
        click.echo(
            f"requests this hour: {usage.get('currentTimeframeRequestCount')} "
            f"of {usage.get('externalRequestThreshold')}"
        )
        picklists = Picklists(client)
        for status, label in config["AUTOTASK_STATUS_LABELS"].items():
            click.echo(f"status {status} -> {label!r} = {picklists.status(status)}")
        for priority, label in config["AUTOTASK_PRIORITY_LABELS"].items():
            click.echo(f"priority P{priority} -> {label!r} = {picklists.priority(priority)}")
        for field_name, setting in (("source", "AUTOTASK_SOURCE_LABEL"), ("queueID", "AUTOTASK_QUEUE_LABEL")):
            click.echo(f"{field_name} -> {config[setting]!r} = {picklists.optional('Tickets', field_name, setting)}")
        for field_name, setting in (
            ("noteType", "AUTOTASK_NOTE_TYPE_LABEL"),
            ("publish", "AUTOTASK_NOTE_PUBLISH_LABEL"),
        ):
            value = picklists.value("TicketNotes", field_name, config[setting])
            click.echo(f"note {field_name} -> {config[setting]!r} = {value}")
    except AutotaskError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Autotask connection and picklist labels are fine.")


@autotask_group.command("refresh-phones")
def refresh_phones() -> None:
    """Rebuild the local index of Autotask contact and company phone numbers."""
    try:
        count = phones.refresh()
    except AutotaskError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{count} phone numbers indexed")


@autotask_group.command("sync-directory")
@click.option("--full", is_flag=True, help="Read every company, contract and contact again, not only changes.")
def sync_directory(full: bool) -> None:
    """Read companies, contracts and contacts from Autotask into the directory (resumes where it stopped)."""
    counts = directory_sync.sync(full=full)
    click.echo(", ".join(f"{counts[entity]} {entity.lower()}" for entity in directory_sync.ENTITIES) + " read")
    if counts["stopped"]:
        click.echo("stopped before the end (Autotask unavailable or the request budget spent): run it again")


@autotask_group.command("sync")
def sync_now() -> None:
    """Push the tickets, notes and statuses Autotask has not confirmed yet."""
    synced = sync.sync_pending()
    waiting = db.session.scalar(
        select(func.count()).select_from(AutotaskTicket).where(AutotaskTicket.sync_state == SyncState.PENDING)
    )
    click.echo(f"{synced} tickets pushed, {waiting} still waiting")
    for link in db.session.scalars(select(AutotaskTicket).where(AutotaskTicket.last_error.is_not(None))).all():
        click.echo(f"  ticket {link.ticket.number}: {link.last_error}")
