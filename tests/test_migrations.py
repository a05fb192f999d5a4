"""The Alembic history builds exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import upgrade_to_head
from storage.models import Base


def test_migrations_match_models(database_url):
    upgrade_to_head(database_url)
    upgrade_to_head(database_url)  # idempotent: a second run changes nothing
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert "alembic_version" in inspect(conn).get_table_names()
    engine.dispose()
