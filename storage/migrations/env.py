"""Alembic environment: the URL comes from the caller (storage.migrate), never from a file."""
from alembic import context

from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "storage.migrate sets the URL"
    engine = make_engine(url)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "sqlite" and raw is not None:
            # Batch migrations rebuild a table by dropping it: with foreign keys on, that would
            # cascade into every table that references it. (Set outside a transaction, or it is a no-op.)
            raw.execute("PRAGMA foreign_keys=OFF")
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    # The directory's version row (storage/directory_cache.py) is not raised by migrations: it may
    # not exist yet, and no process serves messages while the schema changes.
    connection.execution_options(linerelay_migrating=True)
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
