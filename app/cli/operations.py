"""``check`` (is this desk ready to take calls?) and ``purge`` (personal data past RETENTION_DAYS)."""

import click


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
