"""Alembic environment: migrations run on the connection :func:`cspkit.web.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from cspkit.web.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through cspkit.web.db.migrate
    raise RuntimeError("Run the migrations with cspkit.web.db.migrate(engine).")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
