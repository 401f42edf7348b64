"""Command-line tools: ``flask --app app <command>`` (DESIGN §7); one module per group of commands."""

import click
from flask import Flask, current_app

from app import phone


def register(app: Flask) -> None:
    from app.cli import autotask, demo, desk, directory, incidents, operations, users

    for command in (
        demo.seed_demo,
        demo.simulate_call,
        desk.technicians_group,
        desk.queue_command,
        operations.check_command,
        operations.purge_command,
        operations.report_rollup_command,
        users.users_group,
        autotask.autotask_group,
        directory.directory_group,
        incidents.incidents_group,
        incidents.announcements_group,
    ):
        app.cli.add_command(command)


def e164(raw: str) -> str:
    number = phone.normalise(raw, current_app.config["PHONE_REGION"])
    if number is None:
        raise click.BadParameter(f"{raw!r} is not a valid phone number")
    return number
