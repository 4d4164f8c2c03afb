"""Shared fixtures: real Mosquitto, InfluxDB, PostgreSQL and Chromium for the integration tests.

Services start lazily (only when a test asks for one), once per session, on free loopback ports in
temporary directories, and stop at the end. A missing binary FAILS the test with the Debian package to
install; nothing is skipped. Set FACMON_KEEP_SERVICE_DIRS=1 to keep the directories (configs, logs, data).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.records import BACKENDS, fresh_database
from tests.services import (
    INFLUXD,
    MOSQUITTO,
    MOSQUITTO_PASSWD,
    PG_BIN,
    InfluxDB,
    Mosquitto,
    Postgres,
    ServiceError,
    ServiceProcess,
    discard_service,
    require_binary,
    start_service,
)
from tests.tls import OPENSSL, make_tls_files

S = TypeVar("S", bound=ServiceProcess)

CHROMIUM = "/usr/bin/chromium"


def _serve(factory: Callable[[Path], S], name: str) -> Iterator[S]:
    try:
        service = start_service(factory, name)
    except ServiceError as error:
        pytest.fail(str(error), pytrace=False)
    assert isinstance(service, ServiceProcess)
    try:
        yield service  # type: ignore[misc]
    finally:
        discard_service(service, keep_dir=bool(os.environ.get("FACMON_KEEP_SERVICE_DIRS")))


def _binary(path: str, package: str) -> str:
    try:
        return require_binary(path, package)
    except ServiceError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Mosquitto]:
    """A Mosquitto broker: ``.host``, ``.port``, ``.stop()``/``.start()`` (keeps sessions), ``.kill()``."""
    binary = _binary(MOSQUITTO, "mosquitto")
    yield from _serve(lambda d: Mosquitto(d, binary), "mosquitto")


@pytest.fixture(scope="session")
def mosquitto_tls() -> Iterator[Mosquitto]:
    """A second Mosquitto: TLS only (server certificate from a private CA: ``.tls.ca_file``) and a password
    file (``.users``: name -> password); anonymous clients are refused."""
    binary = _binary(MOSQUITTO, "mosquitto")
    passwd = _binary(MOSQUITTO_PASSWD, "mosquitto")
    _binary(OPENSSL, "openssl")
    users = {"collector": secrets.token_urlsafe(12), "device": secrets.token_urlsafe(12)}
    yield from _serve(lambda d: Mosquitto(d, binary, tls=make_tls_files(d / "tls"), users=users,
                                          passwd_binary=passwd), "mosquitto-tls")


@pytest.fixture(scope="session")
def influxdb() -> Iterator[InfluxDB]:
    """An InfluxDB 1.x server: ``.url``, ``.stop()``/``.start()``."""
    binary = _binary(INFLUXD, "influxdb")
    yield from _serve(lambda d: InfluxDB(d, binary), "influxdb")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL 15 server: ``.url_for(dbname)``; use ``pg_url`` for a fresh database."""
    for tool in ("initdb", "postgres"):
        _binary(str(PG_BIN / tool), "postgresql")
    yield from _serve(Postgres, "postgres")


@pytest.fixture
def pg_url(postgres: Postgres) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database, dropped after the test."""
    dbname = f"t_{secrets.token_hex(6)}"
    postgres.create_database(dbname)
    try:
        yield postgres.url_for(dbname)
    finally:
        postgres.drop_database(dbname)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the Chromium binary for Playwright's ``executable_path``."""
    found = shutil.which("chromium")
    return found if found is not None else _binary(CHROMIUM, "chromium")


@pytest.fixture
def unique_site() -> str:
    """A site id no other test uses, so each test has its own MQTT topics and records."""
    return f"site-{secrets.token_hex(4)}"



@pytest.fixture(scope="session")
def migrated_pg(postgres: Postgres) -> Iterator[str]:
    """One migrated PostgreSQL database for the session; ``db`` empties it before each test."""
    from storage.records import Database

    dbname = f"t_records_{secrets.token_hex(4)}"
    postgres.create_database(dbname)
    database = Database(postgres.url_for(dbname))
    database.upgrade()
    database.dispose()
    yield postgres.url_for(dbname)
    postgres.drop_database(dbname)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Any]:
    """A migrated, empty records ``Database`` on a SQLite file only (for tests that need one backend)."""
    from storage.records import Database

    database = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A migrated, empty records ``Database``: a SQLite file, then a real PostgreSQL (the test runs on both)."""
    database = fresh_database(request, tmp_path)
    yield database
    database.dispose()
