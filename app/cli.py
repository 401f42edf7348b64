"""Command-line tools: ``flask --app app <command>``."""

import json

import click
import requests
from flask import Flask, current_app
from sqlalchemy import func, or_, select

from app import clock, phone
from app.extensions import db
from app.models import OPEN_CALLBACK_STATUSES, Callback, Company, Contact, ContactPhone, Technician, TechnicianState
from app.web import accounts
from callbacks import jobs, technicians, urgent
from callbacks.queue import waiting

DEMO_COMPANIES = [
    ("Brouwerij De Klok", "magic", [("An Peeters", "+32470123456", "an@deklok.example", "nl")]),
    ("Transports Lemaire", "wise", [("Luc Lemaire", "+32475987654", "luc@lemaire.example", "fr")]),
    ("Atelier Vos", "basic", [("Els Vos", "+3238887766", "els@vos.example", "nl")]),
    ("Harbour Logistics", "none", [("Sam Baker", "+447911123456", "sam@harbour.example", "en")]),
]
DEMO_TECHNICIANS = [
    ("Jan Janssens", "+32470000001", "nl,en"),
    ("Marie Dubois", "+32470000002", "fr,nl,en"),
    ("Tom Claes", "+32470000003", "nl,en"),
]


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(technicians_group)
    app.cli.add_command(queue_command)
    app.cli.add_command(simulate_call)
    app.cli.add_command(check_command)
    app.cli.add_command(purge_command)
    from app.autotask.cli import autotask_group

    app.cli.add_command(autotask_group)


def _e164(raw: str) -> str:
    number = phone.normalise(raw, current_app.config["PHONE_REGION"])
    if number is None:
        raise click.BadParameter(f"{raw!r} is not a valid phone number")
    return number


@click.command("seed-demo")
def seed_demo() -> None:
    """Add demo companies, contacts and three available technicians (once)."""
    if db.session.scalar(select(func.count()).select_from(Company)):
        click.echo("demo data already present")
        _seed_accounts()
        return
    for name, contract, contacts in DEMO_COMPANIES:
        company = Company(name=name, contract=contract)
        for contact_name, number, email, language in contacts:
            contact = Contact(name=contact_name, company=company, email=email, language=language)
            contact.phones.append(ContactPhone(e164=number))
            db.session.add(contact)
        db.session.add(company)
    for name, number, languages in DEMO_TECHNICIANS:
        db.session.add(Technician(name=name, phone=number, languages=languages, state=TechnicianState.AVAILABLE))
    db.session.commit()
    click.echo(f"seeded {len(DEMO_COMPANIES)} companies and {len(DEMO_TECHNICIANS)} technicians")
    _seed_accounts()


def _seed_accounts() -> None:
    """A manager and one login per technician, with the demo password (docs/board.md)."""
    added = accounts.seed_demo_accounts()
    if added:
        click.echo(f"accounts {', '.join(added)} with password {accounts.DEMO_PASSWORD!r}")


@click.group("technicians")
def technicians_group() -> None:
    """Manage technicians."""


@technicians_group.command("add")
@click.option("--name", required=True)
@click.option("--phone", "number", required=True, help="Any format; stored as E.164.")
@click.option("--languages", default="nl", show_default=True, help="Comma-separated, e.g. nl,fr,en.")
def add_technician(name: str, number: str, languages: str) -> None:
    """Add a technician (offline until set available)."""
    technician = Technician(name=name, phone=_e164(number), languages=languages.replace(" ", ""))
    db.session.add(technician)
    db.session.commit()
    click.echo(f"technician {technician.id}: {technician.name} {technician.phone}")


@technicians_group.command("set-state")
@click.argument("number")
@click.argument("state", type=click.Choice([s.value for s in technicians.MANUAL_TRANSITIONS]))
def set_technician_state(number: str, state: str) -> None:
    """Set a technician available, away or offline; available triggers dispatch."""
    technician = db.session.scalars(select(Technician).where(Technician.phone == _e164(number))).first()
    if technician is None:
        raise click.ClickException(f"no technician with phone {number}")
    if not technicians.set_state(technician.id, state):
        db.session.rollback()
        raise click.ClickException(f"{technician.name} is {technician.state}; cannot go {state} now")
    db.session.commit()
    if state == TechnicianState.AVAILABLE:
        jobs.trigger_dispatch()
    click.echo(f"{technician.name} is now {state}")


def queue_snapshot() -> dict:
    """Today's callbacks in every state (and older ones still open), all technicians and the
    urgent calls in progress, as ``queue --json`` prints them."""
    today = clock.day_start()
    callbacks = db.session.scalars(
        select(Callback)
        .where(or_(Callback.queued_at >= today, Callback.status.in_(OPEN_CALLBACK_STATUSES)))
        .order_by(Callback.priority, Callback.queued_at, Callback.id)
    )
    # One pass over the queue order gives every waiting callback its place.
    places = {callback.id: place for place, callback in enumerate(waiting(), start=1)}
    return {
        "callbacks": [
            {
                "id": callback.id,
                "status": callback.status,
                "priority": callback.priority,
                "phone": callback.phone,
                "ticket_number": callback.ticket.number,
                "position": places.get(callback.id),
                "attempts": callback.attempts,
                "language": callback.language,
            }
            for callback in callbacks
        ],
        "technicians": [
            {
                "id": technician.id,
                "name": technician.name,
                "phone": technician.phone,
                "state": technician.state,
                "languages": technician.languages.split(","),
            }
            for technician in db.session.scalars(select(Technician).order_by(Technician.id))
        ],
        "urgent_calls": [
            {
                "id": transfer.id,
                "status": transfer.status,
                "phone": transfer.phone,
                "ticket_number": transfer.ticket.number,
                "technician_id": transfer.technician_id,
                "taken_by_oncall": transfer.taken_by_oncall,
                "started_at": transfer.started_at.isoformat() + "Z",
            }
            for transfer in urgent.in_progress()
        ],
    }


@click.command("queue")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def queue_command(as_json: bool) -> None:
    """Show the callback queue and the technicians."""
    snapshot = queue_snapshot()
    if as_json:
        click.echo(json.dumps(snapshot, indent=2))
        return
    for callback in snapshot["callbacks"]:
        place = f"#{callback['position']}" if callback["position"] else "  "
        click.echo(
            f"{place:>4} P{callback['priority']} {callback['status']:<12} {callback['phone']:<15} "
            f"{callback['ticket_number']} attempts={callback['attempts']}"
        )
    for transfer in snapshot["urgent_calls"]:
        click.echo(
            f"  !! urgent {transfer['status']:<10} {transfer['phone'] or 'withheld':<15} {transfer['ticket_number']}"
        )
    for technician in snapshot["technicians"]:
        click.echo(f"     {technician['name']:<20} {technician['phone']:<15} {technician['state']}")


@click.command("simulate-call")
@click.option("--from", "caller", required=True, help="The caller's number (or 'anonymous').")
@click.option("--keys", default="", help='Inputs in order, e.g. "2,#,2,3,1" (an empty item is silence).')
@click.option("--emulator", "emulator_url", envvar="EMULATOR_URL", default="http://127.0.0.1:5050", show_default=True)
def simulate_call(caller: str, keys: str, emulator_url: str) -> None:
    """Phone the running desk through the emulator and print what the caller hears."""
    inputs = keys.split(",") if keys else []
    try:
        reply = requests.post(
            f"{emulator_url}/_emulator/calls",
            json={"from": caller, "keys": inputs, "hangup_when_done": False},
            timeout=120,
        )
        reply.raise_for_status()
    except requests.RequestException as error:
        raise click.ClickException(f"no emulator answered at {emulator_url} ({error}); is `make run` up?") from error
    call = reply.json()
    for line in call["heard"]:
        click.echo(f"  {line}")
    for error in call["errors"]:
        click.echo(f"  ERROR: {error}", err=True)
    click.echo(f"call {call['sid']} ended: {call['status']}")


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Remove personal data older than RETENTION_DAYS (rq cron does it hourly)."""
    from app import retention

    if retention.cutoff() is None:
        raise click.ClickException("RETENTION_DAYS is not set: everything is kept")
    click.echo(("would remove: " if dry_run else "removed: ") + str(retention.purge(dry_run=dry_run)))


@click.command("check")
def check_command() -> None:
    """Is this desk ready to take calls? Database, Redis, workers, the provider and the desk number, mail."""
    from app import preflight

    findings = preflight.run()
    for finding in findings:
        click.echo(finding.line())
    failed = [finding for finding in findings if finding.level == preflight.FAIL]
    if failed:
        raise click.ClickException(f"{len(failed)} check{'s' if len(failed) > 1 else ''} failed")
    click.echo("ready" + (" (see the warnings)" if any(f.level == preflight.WARN for f in findings) else ""))
