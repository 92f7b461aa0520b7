"""Alembic environment, configured in code by :mod:`trellis.runtime.migrate`.

The caller passes an open owner connection and the application role through
``config.attributes``; after the migrations run, the role's grants are refreshed
so that tables added by any migration are usable by the app and nothing more.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from trellis.db import app_role_statements, metadata

config = context.config
connection = config.attributes["connection"]
app_role = config.attributes["app_role"]

context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
for statement in app_role_statements(app_role):
    connection.execute(sa.text(statement))
connection.commit()
