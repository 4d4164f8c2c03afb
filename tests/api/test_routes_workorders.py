"""Work-order routes on the real work-order book: requests, lifecycle, history, filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.clock import ManualClock
from core.domain import Alarm


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/workorders", json={"title": "Dripping tap in 4B", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def move(client: TestClient, work_order_id: int, to_status: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/workorders/{work_order_id}/transitions", json={"to_status": to_status, **body})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_resident_request_defaults_to_a_normal_request_due_in_two_days(client: TestClient) -> None:
    order = create(client, site_id="north", description="kitchen, since Monday")
    assert (order["kind"], order["priority"], order["status"]) == ("request", "normal", "open")
    assert order["opened_at"] == "2026-03-02T08:00:00Z"
    assert order["due_at"] == "2026-03-02T09:00:00Z"  # accepted within 1 working hour (16:00 in Shanghai)
    assert order["history"] == [{"at": "2026-03-02T08:00:00Z", "actor": "front desk", "from_status": None,
                                 "to_status": "open", "note": ""}]


def test_request_about_an_asset_takes_the_asset_site(client: TestClient) -> None:
    order = create(client, asset_id="south-pump-1", priority="urgent", kind="corrective")
    assert order["site_id"] == "south"
    assert order["due_at"] == "2026-03-02T08:30:00Z"  # urgent: accepted within 30 minutes


@pytest.mark.parametrize(("body", "detail"), [
    ({}, "give 'asset_id' or 'site_id'"),
    ({"site_id": "west"}, "unknown site 'west'"),
    ({"asset_id": "ghost"}, "unknown asset 'ghost'"),
    ({"asset_id": "south-pump-1", "site_id": "north"}, "is at site 'south'"),
])
def test_request_naming_wrong_places_is_422(client: TestClient, body: dict[str, str], detail: str) -> None:
    response = client.post("/api/v1/workorders", json={"title": "Noise", **body})
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_request_needs_a_title(client: TestClient) -> None:
    assert client.post("/api/v1/workorders", json={"site_id": "north", "title": ""}).status_code == 422


def test_full_lifecycle_records_every_step(client: TestClient, clock: ManualClock) -> None:
    order = create(client, asset_id="north-pump-1")
    move(client, order["id"], "assigned", assignee="tech-07", actor="dispatcher")
    clock.advance(timedelta(hours=1))
    move(client, order["id"], "in_progress", actor="tech-07")
    done = move(client, order["id"], "completed", actor="tech-07", note="tested 30 min",
                cause="worn mechanical seal", remedy="seal replaced")
    assert (done["assignee"], done["cause"], done["remedy"]) == ("tech-07", "worn mechanical seal", "seal replaced")
    closed = move(client, order["id"], "closed", actor="dispatcher")
    assert closed["closed_at"] == "2026-03-02T09:00:00Z"
    steps = [(e["from_status"], e["to_status"], e["actor"]) for e in closed["history"]]
    assert steps == [(None, "open", "front desk"), ("open", "assigned", "dispatcher"),
                     ("assigned", "in_progress", "tech-07"), ("in_progress", "completed", "tech-07"),
                     ("completed", "closed", "dispatcher")]
    assert client.get(f"/api/v1/workorders/{order['id']}").json() == closed


def test_forbidden_transition_is_409_naming_current_and_requested(client: TestClient) -> None:
    order = create(client, site_id="north")
    response = client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to_status": "closed"})
    assert response.status_code == 409
    assert response.json()["current"] == "open"
    assert response.json()["requested"] == "closed"
    assert client.get(f"/api/v1/workorders/{order['id']}").json()["status"] == "open"


def test_unknown_status_is_422(client: TestClient) -> None:
    order = create(client, site_id="north")
    response = client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to_status": "done"})
    assert response.status_code == 422


def test_unknown_work_order_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/workorders/404").status_code == 404
    response = client.post("/api/v1/workorders/404/transitions", json={"to_status": "assigned"})
    assert response.status_code == 404


def test_list_filters(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()  # opens an emergency work order on north-pump-1
    request = create(client, site_id="south")
    cancelled = create(client, asset_id="north-lift-a")
    move(client, cancelled["id"], "cancelled")

    def ids(**params: Any) -> list[int]:
        return [o["id"] for o in client.get("/api/v1/workorders", params=params).json()]

    assert ids() == [cancelled["id"], request["id"], alarm.work_order_id]  # newest first
    assert ids(site="south") == [request["id"]]
    assert ids(asset="north-pump-1") == [alarm.work_order_id]
    assert ids(status="cancelled") == [cancelled["id"]]
    assert ids(open_only=True) == [request["id"], alarm.work_order_id]
    emergency = client.get(f"/api/v1/workorders/{alarm.work_order_id}").json()
    assert (emergency["kind"], emergency["priority"], emergency["alarm_id"]) == ("emergency", "emergency", alarm.id)
