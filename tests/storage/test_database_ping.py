"""``Database.ping``: up, unreachable (retryable: facmon waits) or refusing us (a configuration error: it exits)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError, ServiceUnavailable
from facmon.broker import free_port
from storage.records import Database, database


def test_a_sqlite_file_answers(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    try:
        db.ping()
    finally:
        db.dispose()


def test_postgresql_answers(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        db.ping()
    finally:
        db.dispose()


def test_nothing_listening_is_unavailable_and_retryable() -> None:
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/facmon")
    try:
        with pytest.raises(ServiceUnavailable, match="records database unreachable") as caught:
            db.ping()
        assert caught.value.retryable
    finally:
        db.dispose()


def test_a_database_that_does_not_exist_is_a_configuration_error(postgres: Any) -> None:
    db = Database(postgres.url_for("no_such_database"))
    try:
        with pytest.raises(ConfigError, match=r"refused the connection.*does not exist"):
            db.ping()
    finally:
        db.dispose()


def test_a_server_that_never_answers_is_unavailable_after_the_connect_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that accepts and then says nothing (a hung server, a half-open path) must not hang the health
    watch for the kernel's TCP timeout."""
    monkeypatch.setattr(database, "CONNECT_TIMEOUT_S", 2)  # libpq's smallest
    with socket.create_server(("127.0.0.1", 0)) as silent:
        db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/facmon")
        started = time.monotonic()
        try:
            with pytest.raises(ServiceUnavailable):
                db.ping()
        finally:
            db.dispose()
    assert time.monotonic() - started < 6
