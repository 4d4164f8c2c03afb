"""Fixtures for the API tests: the real services (SQLite records, SQLite telemetry, work-order book,
rules service with the default rules) seeded with a small portfolio and an admin, a TestClient signed in as
that admin (``client``) or as any role (``client_as``), and a live server."""

from __future__ import annotations

import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.deps import Services
from api.identity import current_principal
from core.clock import ManualClock
from core.domain import Alarm, Asset, AssetKind, Reading, Site
from core.events import EventBus
from people.access import Permission, Principal
from people.accounts import Accounts
from people.model import Role, User
from rules.pack import default_rules
from rules.service import RulesService
from storage.records import Database
from storage.sqlite_telemetry import SqliteTelemetryStore
from workorders.attachments import Attachments, DiskBlobStore
from workorders.book import WorkOrderBook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note that it will move to httpx2 one day
    from fastapi.testclient import TestClient

ADMIN_ID = "test-admin"
PASSWORD = "correct horse battery"  # every user client_as makes has it
ATTACHMENT_MAX_BYTES = 64 * 1024
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SITES = [Site("north", "North Tower"), Site("south", "South Court")]
ASSETS = [
    Asset("north-pump-1", "north", AssetKind.PUMP, "North booster pump 1"),
    Asset("north-lift-a", "north", AssetKind.ELEVATOR, "North lift A"),
    Asset("north-light-1", "north", AssetKind.LIGHTING, "North lobby lights"),
    Asset("south-pump-1", "south", AssetKind.PUMP, "South booster pump 1"),
]


@pytest.fixture
def token(seeded_records: Path) -> str:
    """A personal API token of the seeded admin (``ADMIN_ID``)."""
    return (seeded_records.parent / "admin-token").read_text()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="session")
def seeded_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated records database holding the portfolio, made once and copied by each test (faster)."""
    path = tmp_path_factory.mktemp("records") / "records.db"
    (path.parent / "admin-token").write_text(seed_records(f"sqlite:///{path}"))
    return path


def seed_records(url: str) -> str:
    """Migrate the records database at ``url`` and add the portfolio and the admin; the admin's API token."""
    db = Database(url)
    db.upgrade()
    for site in SITES:
        db.assets.upsert_site(site)
    for asset in ASSETS:
        db.assets.upsert_asset(asset)
    accounts = Accounts(db, ManualClock(START))
    accounts.add_user(User(ADMIN_ID, "Test admin", frozenset({Role.ADMIN})))
    admin_token, _ = accounts.issue_token(ADMIN_ID, "tests")
    db.dispose()
    return admin_token


@pytest.fixture
def services(tmp_path: Path, clock: ManualClock, seeded_records: Path) -> Iterator[Services]:
    shutil.copyfile(seeded_records, tmp_path / "records.db")
    db = Database(f"sqlite:///{tmp_path / 'records.db'}")
    db.upgrade()  # already at head: checks the copy
    store = SqliteTelemetryStore(tmp_path / "telemetry.db")
    bus = EventBus()
    book = WorkOrderBook(db, bus, clock)
    rules = RulesService(default_rules(), db, book, bus, clock)
    attachments = Attachments(db, book, DiskBlobStore(tmp_path / "blobs"), clock, max_bytes=ATTACHMENT_MAX_BYTES)
    yield Services(db=db, store=store, book=book, rules=rules, bus=bus, clock=clock, attachments=attachments)
    store.close()
    db.dispose()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


@pytest.fixture
def client(app: FastAPI, token: str) -> Iterator[TestClient]:
    """Signed in as the seeded admin, through a personal API token."""
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as test_client:
        yield test_client


def add_user_with_role(services: Services, role: Role | str, user_id: str | None = None) -> User:
    """A user holding only ``role``, with the password ``PASSWORD`` (a resident lives at the site north)."""
    role = Role(role)
    sites = frozenset({"north"}) if role is Role.RESIDENT else frozenset()
    user = User(user_id or f"{role.value}-1", f"Test {role.value}", frozenset({role}), sites=sites)
    accounts = services.identity()
    if accounts.users.find(user.id) is None:
        accounts.add_user(user, PASSWORD)
    return accounts.users.get(user.id)


@pytest.fixture
def client_as(app: FastAPI, services: Services) -> Iterator[Callable[..., TestClient]]:
    """``client_as(role)``: a TestClient signed in as a user holding that one role (user id
    ``<role>-1``), through a personal API token with all of the role's permissions."""
    clients: list[TestClient] = []

    def make(role: Role | str, user_id: str | None = None) -> TestClient:
        user = add_user_with_role(services, role, user_id)
        token, _ = services.identity().issue_token(user.id, "tests")
        test_client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def browser_as(app: FastAPI, services: Services) -> Iterator[Callable[..., TestClient]]:
    """``browser_as(role)``: a TestClient signed in as a browser is, through ``POST /auth/login``: it holds
    the session cookies and sends ``X-CSRF-Token`` on every request, as the console does."""
    clients: list[TestClient] = []

    def make(role: Role | str, user_id: str | None = None) -> TestClient:
        user = add_user_with_role(services, role, user_id)
        test_client = TestClient(app).__enter__()
        clients.append(test_client)
        answer = test_client.post("/api/v1/auth/login", json={"username": user.id, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        test_client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def as_principal(app: FastAPI, principal: Principal) -> None:
    """Make every request of ``app`` act as ``principal`` (for tests of a route's own rules)."""
    app.dependency_overrides[current_principal] = lambda: principal


def principal_with(*permissions: Permission, user_id: str = "someone") -> Principal:
    return Principal(user_id, user_id, frozenset(), frozenset(permissions), via="token")


def pump_readings(asset_id: str, site_id: str, since: datetime, minutes: int,
                  flow_m3h: float, discharge_bar: float) -> list[Reading]:
    """A pump reporting once a minute, as the simulators do."""
    return [Reading(site_id, AssetKind.PUMP, asset_id, since + timedelta(minutes=i),
                    {"running": True, "flow_m3h": flow_m3h, "discharge_bar": discharge_bar, "suction_bar": 1.2,
                     "vibration_mm_s": 1.4, "bearing_temp_c": 48.0, "mains_ok": True})
            for i in range(minutes)]


@pytest.fixture
def burst_pipe(services: Services, clock: ManualClock) -> Callable[..., Alarm]:
    """Feed the rules service a burst-pipe signature (flow up, pressure down) until it raises the alarm."""

    def feed(asset_id: str = "north-pump-1", site_id: str = "north") -> Alarm:
        readings = pump_readings(asset_id, site_id, clock.now(), 5, flow_m3h=72.0, discharge_bar=0.9)
        for reading in readings:
            clock.advance(timedelta(minutes=1))
            services.rules.process([reading])
        alarm = services.db.alarms.find_open("pump_burst_pipe", asset_id)
        assert alarm is not None, "the default rules did not raise pump_burst_pipe"
        return alarm

    return feed


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    """``app`` served by uvicorn on a free loopback port, in a thread, until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveServer(f"http://127.0.0.1:{port}", server)
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    with serve(app) as server:
        yield server
