"""``flask --app app users …``: accounts for the board, the console and the API."""

import click
from flask import current_app
from sqlalchemy import select

from app import phone
from app.extensions import db
from app.messages import LANGUAGES
from app.models import Role, Technician
from app.web.accounts import add_user, find_user, new_token


@click.group("users")
def users_group() -> None:
    """Manage accounts for the board, the console and the API."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--technician", "technician_phone", help="The technician's phone (technician accounts).")
@click.option("--language", type=click.Choice(LANGUAGES), help="The language of their pages (default: the browser's).")
@click.password_option(help="Asked for when not given.")
def add_user_command(
    username: str, role: str, technician_phone: str | None, language: str | None, password: str
) -> None:
    """Add an account; a technician account is linked to the technician with that phone."""
    technician = None
    if technician_phone:
        number = phone.normalise(technician_phone, current_app.config["PHONE_REGION"])
        technician = db.session.scalars(select(Technician).where(Technician.phone == number)).first()
        if technician is None:
            raise click.ClickException(f"no technician with phone {technician_phone}")
    try:
        user = add_user(username, password, role, technician, language)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    linked = f", linked to {technician.name}" if technician else ""
    click.echo(f"user {user.username} ({user.role}){linked}")


@users_group.command("token")
@click.argument("username")
def token_command(username: str) -> None:
    """Print a new API bearer token for the user (it replaces the previous one)."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    click.echo(new_token(user))
