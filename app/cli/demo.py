"""``seed-demo`` and ``simulate-call``: the demo desk of `make run`, and a call placed through the emulator."""

import click
import requests
from flask import current_app
from sqlalchemy import func, select

from app import secret_settings
from app.extensions import db
from app.models import Company, Contact, ContactPhone, Technician, TechnicianState
from app.web import accounts

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


@click.command("seed-demo")
def seed_demo() -> None:
    """Add demo companies, contacts and three available technicians (once); loopback desks only."""
    if not secret_settings.is_loopback(current_app.config["PUBLIC_BASE_URL"]):
        raise click.ClickException(
            f"refused: {current_app.config['PUBLIC_BASE_URL']} is not loopback, and the demo accounts' "
            "password is published (DESIGN §11)"
        )
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
