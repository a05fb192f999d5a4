"""Setting up the database: the schema through Alembic, then the configured plant
(`linerelay init-db` runs `init_db`)."""
from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from storage.directory import Plant

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_head(url: str) -> None:
    """Create or upgrade the schema to the newest migration."""
    command.upgrade(alembic_config(url), "head")


def init_db(url: str, plant: Plant | None = None) -> None:
    """Create or upgrade the schema, then load the configured plant (workshops, routes, people,
    groups) into it; rows the configuration does not name are kept."""
    from storage.db import make_engine, make_session_factory
    from storage.directory import sync_from_config
    from storage.workers import sync_piece_rates
    upgrade_to_head(url)
    if plant is None:
        return
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            sync_from_config(session, plant)
            sync_piece_rates(session, getattr(plant, "piece_rates", ()))
    finally:
        engine.dispose()


def schema_is_current(engine) -> bool:
    """True when the database's Alembic revision is the newest one."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
