"""``check`` (is this desk ready to take calls?), ``purge`` (personal data past RETENTION_DAYS) and
``report-rollup`` (count finished desk days into the reports' rollup)."""

import click


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Remove personal data older than RETENTION_DAYS (rq cron does it hourly)."""
    from app import retention

    if retention.cutoff() is None:
        raise click.ClickException("RETENTION_DAYS is not set: everything is kept")
    click.echo(("would remove: " if dry_run else "removed: ") + str(retention.purge(dry_run=dry_run)))


@click.command("report-rollup")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First desk day to count again.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last desk day (default: yesterday).")
def report_rollup_command(first, last) -> None:
    """Count finished desk days into the reports' rollup: the days from --from to --to again, else
    every day not counted yet and the last REPORT_RECOUNT_DAYS (what rq cron does hourly)."""
    from app import report_rollup

    if first is None:
        if last is not None:
            raise click.UsageError("--to needs --from")
        click.echo(f"counted {report_rollup.catch_up()} desk days")
        return
    end = last.date() if last else report_rollup.today()
    if end < first.date():
        raise click.UsageError("--to is before --from")
    click.echo(f"counted {report_rollup.roll_up(first.date(), end)} desk days")


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
