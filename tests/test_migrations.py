"""The schema the migrations build is the one the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.extensions import db


def test_the_migrations_have_one_head(app):
    directory = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    assert len(directory.get_heads()) == 1


def test_the_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []
