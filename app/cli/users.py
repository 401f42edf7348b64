"""``flask --app app users …``: accounts for the board, the console and the API."""

import click
from flask import current_app
from sqlalchemy import select

from app import phone
from app.extensions import db
from app.messages import LANGUAGES
from app.models import Role, Technician, User
from app.web.accounts import add_user, disable, enable, find_user, new_token, set_password


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


@users_group.command("passwd")
@click.argument("username")
@click.password_option(help="Asked for when not given.")
def passwd_command(username: str, password: str) -> None:
    """Set a new password; the user's sessions end."""
    user = _user(username)
    try:
        set_password(user, password)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"user {user.username}: new password set, sessions ended")


@users_group.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Stop an account: no more logins, its sessions and API token stop working at once."""
    user = _user(username)
    disable(user)
    click.echo(f"user {user.username} disabled: sessions and API token revoked")


@users_group.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Let a disabled account log in again (it needs a new API token)."""
    user = _user(username)
    enable(user)
    click.echo(f"user {user.username} enabled")


def _user(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@users_group.command("token")
@click.argument("username")
def token_command(username: str) -> None:
    """Print a new API bearer token for the user (it replaces the previous one)."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    click.echo(new_token(user))
