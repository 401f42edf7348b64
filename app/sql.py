"""Small SQL helpers: what differs between SQLite and PostgreSQL, the compare-and-set claim, a safe rollback."""

import logging

from sqlalchemy import BigInteger, Float, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db

log = logging.getLogger(__name__)


def insert_ignoring_conflicts(model, index_elements: list[str] | None = None, **values) -> int:
    """INSERT a row unless one with the same unique key exists (both dialects); returns the rows inserted."""
    dialect = postgresql if is_postgresql() else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=index_elements)
    return db.session.execute(statement).rowcount


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def compare_and_set(column, row_id: int, expected, **values) -> bool:
    """UPDATE one row only if ``column`` still holds one of ``expected``.

    This is the claim: of two workers racing for the same row, the database
    lets exactly one UPDATE match; the loser sees rowcount 0 and backs off.
    """
    model = column.class_
    allowed = expected if isinstance(expected, list | tuple | set | frozenset) else [expected]
    statement = update(model).where(model.id == row_id, column.in_(allowed)).values(**values)
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount == 1


def abandon() -> None:
    """Drop the session's connections without a word to the server (it may be stalled): a new one next time."""
    try:
        db.session.invalidate()
    except Exception:
        log.exception("could not drop the database connection")


def rollback() -> None:
    """Roll the session back after a failure; a rollback that fails too is logged, never raised."""
    try:
        db.session.rollback()
    except Exception:
        log.exception("rollback failed as well")


class epoch_seconds(FunctionElement):
    """Whole seconds since 1970-01-01 of a naive UTC timestamp, computed by the database (both dialects)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds)
def _epoch_seconds_sqlite(element, compiler, **kw) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_seconds_postgresql(element, compiler, **kw) -> str:
    # date_part gives a double; EXTRACT gives a numeric, several times slower over a year of rows.
    return f"CAST(FLOOR(date_part('epoch', {compiler.process(element.clauses, **kw)})) AS BIGINT)"


class minutes_between(FunctionElement):
    """Minutes (fractional) from the first naive UTC timestamp to the second, computed by the database."""

    type = Float()
    inherit_cache = True


@compiles(minutes_between)
def _minutes_between_sqlite(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 1440.0)"


@compiles(minutes_between, "postgresql")
def _minutes_between_postgresql(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(date_part('epoch', {end} - {start}) / 60.0)"
