"""Alembic's environment. It runs only in-process, on the connection that `store.db.migrate`
or `python -m store.migrations new` puts in `config.attributes["connection"]`: that
connection already holds the migration lock and the transaction, and it points at the right
SQLite file or PostgreSQL schema (search_path), so the version table lands beside the tables."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # SQLModel's AutoString is a plain VARCHAR: autogenerate writes it as sa.String, so
    # revisions stay plain SQLAlchemy and never depend on sqlmodel's internals.
    if type_ == "type" and isinstance(obj, AutoString):
        length = getattr(obj, "length", None)  # the wrapped String's
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Switchboard's migrations run in-process: use `switchboard migrate`, store.db.migrate(), "
        "or `python -m store.migrations new MESSAGE`, not the alembic command line"
    )
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite alters few things in place: batch operations rebuild the table when they must.
    render_as_batch=connection.dialect.name == "sqlite",
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
