"""/healthz answers 200 while the process runs, degraded or not; /readyz refuses while the records database is down."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from core.clock import ManualClock
from core.errors import ServiceUnavailable
from core.health import BROKER, RECORDS_DATABASE, TELEMETRY_STORE, Dependencies


def client_with(services: Services, down: set[str]) -> TestClient:
    dependencies = Dependencies(ManualClock(datetime(2026, 12, 5, tzinfo=UTC)))
    for name in (BROKER, TELEMETRY_STORE, RECORDS_DATABASE):
        def probe(name: str = name) -> None:
            if name in down:
                raise ServiceUnavailable(f"{name} unreachable")
        dependencies.add(name, probe)
    dependencies.check()
    return TestClient(create_app(dataclasses.replace(services, health=dependencies.report)))


def test_a_store_outage_is_degraded_health_but_alive_and_ready(services: Services) -> None:
    with client_with(services, {TELEMETRY_STORE}) as client:
        health = client.get("/healthz")
        ready = client.get("/readyz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["down"] == [TELEMETRY_STORE]
    assert health.json()["dependencies"][TELEMETRY_STORE]["detail"] == "telemetry_store unreachable"
    assert ready.status_code == 200


def test_without_the_records_database_it_is_alive_but_not_ready(services: Services) -> None:
    with client_with(services, {RECORDS_DATABASE, BROKER}) as client:
        health = client.get("/healthz")
        ready = client.get("/readyz")
    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["down"] == [BROKER, RECORDS_DATABASE]


def test_everything_up_is_ok(services: Services) -> None:
    with client_with(services, set()) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/readyz").status_code == 200
