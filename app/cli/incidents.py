"""``incidents open|update|close|list`` and ``announcements set|end|list`` (DESIGN §10)."""

from datetime import datetime, timedelta

import click
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.messages import LANGUAGES
from app.models import Company
from callbacks import announcements, incidents, manage

BY = "the command line"


def _refusal(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


@click.group("incidents")
def incidents_group() -> None:
    """Declare, update and close incidents (one outage, one ticket)."""


@incidents_group.command("open")
@click.option("--company", "company_name", help="The company affected (its exact name).")
@click.option("--all", "for_all", is_flag=True, help="Every caller is affected.")
@click.option("--title", required=True)
@click.option("--say", default="", help="What callers hear, in every language without its own text.")
@click.option("--say-nl", default="")
@click.option("--say-fr", default="")
@click.option("--say-en", default="")
def open_command(
    company_name: str | None, for_all: bool, title: str, say: str, say_nl: str, say_fr: str, say_en: str
) -> None:
    """Declare an incident; prints its id."""
    if for_all == bool(company_name):
        raise click.UsageError("give --company NAME or --all")
    company_id = None
    if company_name:
        company = db.session.scalars(select(Company).where(Company.name == company_name)).first()
        if company is None:
            raise click.ClickException(f"no company named {company_name!r}")
        company_id = company.id
    spoken = incidents.texts_per_language(say, nl=say_nl, fr=say_fr, en=say_en)
    try:
        incident = incidents.open_incident(company_id, title, spoken, by=BY)
    except (ValueError, manage.NotFound) as error:
        raise _refusal(error) from error
    click.echo(incident.id)


def _texts(text: str, text_nl: str, text_fr: str, text_en: str) -> dict[str, str]:
    return incidents.texts_per_language(text, nl=text_nl, fr=text_fr, en=text_en)


@incidents_group.command("update")
@click.argument("incident_id", type=int)
@click.option("--text", default="", help="Sent to every joined caller, unless their language has its own.")
@click.option("--text-nl", default="")
@click.option("--text-fr", default="")
@click.option("--text-en", default="")
def update_command(incident_id: int, text: str, text_nl: str, text_fr: str, text_en: str) -> None:
    """Send an update to every caller who joined the incident."""
    try:
        incidents.post_update(incident_id, _texts(text, text_nl, text_fr, text_en), by=BY)
    except (ValueError, manage.NotFound, manage.Refused) as error:
        raise _refusal(error) from error
    click.echo(f"incident {incident_id}: update sent")


@incidents_group.command("close")
@click.argument("incident_id", type=int)
@click.option("--text", default="", help="Added to the resolution message.")
@click.option("--text-nl", default="")
@click.option("--text-fr", default="")
@click.option("--text-en", default="")
def close_command(incident_id: int, text: str, text_nl: str, text_fr: str, text_en: str) -> None:
    """Resolve the incident; every joined caller is told by SMS."""
    try:
        incidents.close(incident_id, _texts(text, text_nl, text_fr, text_en), by=BY)
    except (manage.NotFound, manage.Refused) as error:
        raise _refusal(error) from error
    click.echo(f"incident {incident_id}: closed")


@incidents_group.command("list")
def list_command() -> None:
    """The open incidents and how many callers joined each."""
    for incident in incidents.open_incidents():
        whom = incident.company.name if incident.company else "everyone"
        click.echo(
            f"{incident.id:>4} {incident.ticket.number} {whom:<30} {len(incident.members):>3} joined  {incident.title}"
        )


@click.group("announcements")
def announcements_group() -> None:
    """Messages played to every caller of a language after the language choice."""


@announcements_group.command("set")
@click.option("--language", type=click.Choice(LANGUAGES), required=True)
@click.option("--text", required=True)
@click.option("--until", "until", required=True, help="Desk time, e.g. 2026-12-01T18:00, or minutes from now: +90.")
def set_command(language: str, text: str, until: str) -> None:
    """Play an announcement until a given time."""
    try:
        announcements.announce(language, text, _moment(until), by=BY)
    except ValueError as error:
        raise _refusal(error) from error
    click.echo(f"announcement in {language} until {until}")


def _moment(raw: str) -> datetime:
    if raw.startswith("+") and raw[1:].isdigit():
        return clock.utcnow() + timedelta(minutes=int(raw[1:]))
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise click.BadParameter(f"{raw!r} is not a time like 2026-12-01T18:00 or +90") from None
    return clock.as_utc(moment if moment.tzinfo else moment.replace(tzinfo=clock.DESK_TIMEZONE))


@announcements_group.command("end")
@click.option("--language", type=click.Choice(LANGUAGES), required=True)
def end_command(language: str) -> None:
    """End a language's announcement now."""
    click.echo(f"{announcements.end(language)} announcement(s) ended")


@announcements_group.command("list")
def list_announcements() -> None:
    for announcement in announcements.active():
        ends = clock.local(announcement.ends_at).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{announcement.language} until {ends}: {announcement.text}")
