"""``technicians add|set-state`` and ``queue [--json]``: the desk's people and its queue."""

import json

import click
from sqlalchemy import select

from app.cli import e164 as _e164
from app.extensions import db
from app.models import Technician
from callbacks import manage, technicians
from callbacks.snapshot import queue_snapshot


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
    try:
        manage.set_technician_state(technician.id, state)
    except manage.Refused as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(f"{technician.name} is now {state}")


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
