"""The records database for tests on both backends: a SQLite file, then a real PostgreSQL.

``tests/conftest.py`` builds the ``db`` fixture (parametrized over ``BACKENDS``) and the session's one
migrated PostgreSQL database (``migrated_pg``) from these; a test module that needs a database of its own
kind (several per test, say) calls ``fresh_database`` itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.records import Database
from storage.records.models import Base

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """A migrated, empty records database for ``request.param`` ("sqlite" or "postgresql").

    PostgreSQL: the session's migrated database, emptied (a fresh database per test costs ~0.5 s); the
    migrations themselves are tested on a fresh ``pg_url``."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
        database.upgrade()
        return database
    database = Database(request.getfixturevalue("migrated_pg"))
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database
