"""Alembic, configured in code: ``trellis db upgrade`` and the test suite call this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

import trellis.migrations
from trellis.db import Database


def alembic_config(database: Database) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(trellis.migrations.__file__).parent))
    config.attributes["app_role"] = database.app_role
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` as the table owner, then refresh app-role grants."""
    config = alembic_config(database)
    with database.owner_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.owner_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
