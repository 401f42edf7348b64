"""What importing the directory file costs: a 2,000-line CSV with 20 bad lines, then the same file again.

    .venv/bin/python bench/directory_import.py [--lines 2000]
    DATABASE_URL=postgresql+psycopg://127.0.0.1:5432/test .venv/bin/python bench/directory_import.py

On a migrated schema of its own (a SQLite file, or a fresh PostgreSQL schema dropped at the
end), it prints the time of the first import (every line added or refused), of the second
(nothing changes) and of the export, with the machine and its load.
"""

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.directory import csv_file
from bench.harness import machine
from tests.directory_files import directory_file


def build_app(workdir: Path):
    url = os.environ.get("DATABASE_URL", "")
    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with sa.create_engine(url).begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / 'bench.db'}"
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(workdir)}), schema


def timed(what: str, run):
    started = time.perf_counter()
    result = run()
    print(f"{what:<34} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    lines = parser.parse_args().lines
    text, bad = directory_file(lines)
    with tempfile.TemporaryDirectory() as workdir:
        app, schema = build_app(Path(workdir))
        try:
            with app.app_context():
                upgrade()
                print(machine())
                database = "PostgreSQL" if schema else "SQLite"
                print(f"{database}: {lines} lines, {len(bad)} bad")
                first = timed("first import", lambda: csv_file.import_text(text))
                print(f"  {first.summary()}")
                second = timed("second import (changes nothing)", lambda: csv_file.import_text(text))
                print(f"  {second.summary()}")
                exported = timed("export", csv_file.export_text)
                print(f"  {exported.count(chr(10)) - 1} contacts")
        finally:
            if schema:
                with sa.create_engine(os.environ["DATABASE_URL"]).begin() as connection:
                    connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
