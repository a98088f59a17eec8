"""Alembic environment: planwatch passes its engine in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.models import Base

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
    context.run_migrations()
