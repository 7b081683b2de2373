"""Partial indexes: both databases get the ``WHERE`` of each, although the PostgreSQL half is
given to the index only when PostgreSQL compiles its CREATE INDEX (so that importing the schema
does not load the PostgreSQL dialect: ``tests/test_startup_imports.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from server.storage import schema as t


def _index(name: str) -> sa.Index:
    return next(i for table in t.metadata.tables.values() for i in table.indexes if i.name == name)


def test_each_partial_index_has_its_where_on_both_databases() -> None:
    assert t.POSTGRESQL_WHERE
    for name in t.POSTGRESQL_WHERE:
        index = _index(name)
        on_sqlite = str(CreateIndex(index).compile(dialect=sqlite.dialect()))
        on_postgresql = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
        assert " WHERE " in on_sqlite and " WHERE " in on_postgresql
        assert on_sqlite.split(" WHERE ")[1] == on_postgresql.split(" WHERE ")[1]


def test_the_local_username_index_is_partial_on_postgresql() -> None:
    ddl = str(CreateIndex(_index("uq_actors_local_username")).compile(dialect=postgresql.dialect()))
    assert ddl == (
        "CREATE UNIQUE INDEX uq_actors_local_username ON actors (username) WHERE domain IS NULL"
    )


def test_other_indexes_compile_as_before_on_postgresql() -> None:
    ddl = str(CreateIndex(_index("ix_actors_domain")).compile(dialect=postgresql.dialect()))
    assert ddl == "CREATE INDEX ix_actors_domain ON actors (domain)"


def test_every_sqlite_partial_index_has_its_postgresql_half() -> None:
    partial = {
        i.name
        for table in t.metadata.tables.values()
        for i in table.indexes
        if i.dialect_kwargs.get("sqlite_where") is not None
    }
    assert partial == set(t.POSTGRESQL_WHERE)
