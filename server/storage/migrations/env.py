"""Alembic environment: runs on the connection Koers hands over (see ``server.storage.db.migrate``)."""

from __future__ import annotations

from alembic import context

from server.storage.fulltext import include_object
from server.storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `koers migrate`, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # the full-text index is the migrations' own (an FTS5 table and its shadow tables on SQLite)
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
