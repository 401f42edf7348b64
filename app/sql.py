"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def insert_ignoring_conflicts(model, **values) -> None:
    """INSERT a row unless one with the same unique key exists (both dialects)."""
    dialect = sqlite if db.session.get_bind().dialect.name == "sqlite" else postgresql
    db.session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


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
