"""The records database: engine, migrations and the repositories, for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import sessionmaker

from core.errors import ConfigError, FacmonError, ServiceUnavailable
from storage.records.alarms import AlarmRepository
from storage.records.assets import AssetRepository
from storage.records.attachments import AttachmentRepository
from storage.records.audit import AuditRepository
from storage.records.checkpoints import CheckpointRepository
from storage.records.dead_letters import DeadLetterRepository
from storage.records.emergency import EmergencyRunRepository
from storage.records.forecasts import ForecastRepository
from storage.records.inspections import InspectionRepository
from storage.records.leases import Lease, LeaseRepository
from storage.records.maintenance import MaintenanceWindowRepository
from storage.records.plans import PlanRepository
from storage.records.predictor_models import ModelRepository
from storage.records.sessions import READ_ONLY, UnitOfWork, unit_of_work
from storage.records.sla import SlaRepository
from storage.records.work_orders import WorkOrderRepository

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 10  # libpq's connect_timeout, in whole seconds
POOL_SIZE = 20  # connections kept open to PostgreSQL (as many again may open under a burst)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code (no alembic.ini): the migrations ship inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so that "begin" below owns it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Take the write lock at the start: a deferred transaction that reads, then writes, can fail
        # with SQLITE_BUSY at once under WAL, without waiting for the busy timeout. A transaction that
        # says it only reads stays deferred: under WAL it never waits for writers nor other readers.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _driver_execute(connection: Connection, statement: str) -> None:
    """Run ``statement`` on the driver's connection, outside any transaction SQLAlchemy would begin."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(statement)


# PostgreSQL's refusals at connect: invalid_password, invalid_authorization_specification, invalid_catalog_name.
REFUSED_SQLSTATES = frozenset({"28P01", "28000", "3D000"})
REFUSED_TEXTS = ("password authentication failed", "does not exist", "no pg_hba.conf entry")


def unreachable(error: DBAPIError) -> FacmonError:
    """The error for a failed connection: ConfigError if the server refused us, else ServiceUnavailable."""
    reason = str(error.orig).strip()
    if getattr(error.orig, "sqlstate", None) in REFUSED_SQLSTATES or any(t in reason for t in REFUSED_TEXTS):
        return ConfigError(f"records database refused the connection: {reason}")
    return ServiceUnavailable(f"records database unreachable: {reason}")


class Database:
    """The records store; every repository method uses its own short session and is thread-safe."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = create_engine(url)
        else:
            # Keep as many connections open as the API's worker threads use under load: with SQLAlchemy's
            # default (5 kept, 10 more opened and closed again) every burst paid ~100 ms connects
            # (facmon bench api: p50 176 ms on PostgreSQL).
            # A bounded connect: a database host that drops packets must not hang a health probe or a request
            # for the kernel's TCP timeout (minutes); it is reported unreachable and tried again.
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_SIZE,
                                        connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        if self.engine.dialect.name == "sqlite":
            _prepare_sqlite(self.engine)
        sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.sessions = sessions  # the one session factory; repositories that live with their part use it too
        self.assets = AssetRepository(sessions)
        self.alarms = AlarmRepository(sessions)
        self.work_orders = WorkOrderRepository(sessions)
        self.forecasts = ForecastRepository(sessions)
        self.models = ModelRepository(sessions)
        self.dead_letters = DeadLetterRepository(sessions)
        self.checkpoints = CheckpointRepository(sessions)
        self.maintenance = MaintenanceWindowRepository(sessions)
        self.emergency = EmergencyRunRepository(sessions)
        self.attachments = AttachmentRepository(sessions)
        self.sla = SlaRepository(sessions)
        self.inspections = InspectionRepository(sessions)
        self.plans = PlanRepository(sessions)
        self.audit = AuditRepository(sessions)
        self.leases = LeaseRepository(sessions)

    @contextmanager
    def unit_of_work(self, fence: Lease | None = None) -> Iterator[UnitOfWork]:
        """One transaction for every repository call inside (``storage.records.sessions.unit_of_work``); with
        ``fence``, refused with Fenced unless that partition lease is still current."""
        check = None if fence is None else (lambda session: LeaseRepository.check(session, fence))
        with unit_of_work(self.sessions, check) as work:
            yield work

    def ping(self) -> None:
        """Return if the database answers; ServiceUnavailable while it cannot be reached, ConfigError when it
        refuses us (wrong password, no such role or database: waiting will not mend that)."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except (OperationalError, InterfaceError) as error:
            raise unreachable(error) from error

    def upgrade(self) -> None:
        """Migrate the schema to the newest revision (alembic ``upgrade head``)."""
        sqlite = self.engine.dialect.name == "sqlite"
        with self.engine.connect() as connection:
            if sqlite:
                # SQLite alters a table by copying it and dropping the old one: with foreign keys on, the drop
                # would cascade and delete the rows that refer to it (every work order's events). The pragma
                # is ignored inside a transaction, so it is set on the bare connection before it begins.
                _driver_execute(connection, "PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    command.upgrade(alembic_config(connection), "head")
            finally:
                if sqlite:
                    _driver_execute(connection, "PRAGMA foreign_keys=ON")

    def dispose(self) -> None:
        self.engine.dispose()
