"""``flask directory import|export``: the directory as a CSV file (DESIGN §6, docs/directory.md)."""

import sys
import time
from pathlib import Path

import click

from app.directory import InvalidRecord, csv_file


@click.group("directory")
def directory_group() -> None:
    """Companies and contacts: import or export the directory file."""


@directory_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would change, change nothing.")
def import_command(path: Path, dry_run: bool) -> None:
    """Import contacts (and their companies) from a CSV file; prints one line per row."""
    started = time.monotonic()
    try:
        report = csv_file.import_text(path.read_text(encoding="utf-8-sig"), dry_run=dry_run)
    except (InvalidRecord, UnicodeDecodeError) as refused:
        raise click.ClickException(f"{path}: {refused}") from None
    for line in report.lines:
        click.echo(str(line))
    seconds = time.monotonic() - started
    click.echo(f"{'dry run: ' if dry_run else ''}{report.summary()} in {seconds:.2f} s")
    if report.counts[csv_file.REFUSED]:
        sys.exit(1)


@directory_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
def export_command(path: Path | None) -> None:
    """Write every contact as CSV (the import format) to PATH, or to standard output."""
    text = csv_file.export_text()
    if path is None:
        click.echo(text, nl=False)
    else:
        path.write_text(text, encoding="utf-8")
        click.echo(f"{text.count(chr(10)) - 1} contacts written to {path}")
