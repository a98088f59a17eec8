"""Alembic environment: planwatch passes its engine in ``config.attributes``.

The SQL views (``storage/views.py``) describe the newest schema: they are dropped
before the migrations and created again, in the same transaction, once the database
is at the newest revision.
"""

from __future__ import annotations

from alembic import context
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from storage.models import Base
from storage.views import create_views, drop_views

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `planwatch db upgrade`")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    drop_views(connection)
    context.run_migrations()
    now = MigrationContext.configure(connection).get_current_revision()
    if now == context.script.get_current_head():
        create_views(connection)
