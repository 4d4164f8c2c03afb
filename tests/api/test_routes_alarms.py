"""Alarm routes on the real rules service: list, detail with history, acknowledge, comment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from api.deps import Services
from core.clock import ManualClock
from core.domain import Alarm, AlarmState


def test_burst_pipe_alarm_is_listed_as_active(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    listed = client.get("/api/v1/alarms", params={"active_only": True}).json()
    assert [a["id"] for a in listed] == [alarm.id]
    assert listed[0]["rule_id"] == "pump_burst_pipe"
    assert listed[0]["severity"] == "critical"
    assert listed[0]["state"] == "unacknowledged"
    assert listed[0]["active"] is True
    assert listed[0]["work_order_id"] is not None  # the rule opens an emergency work order


def test_alarms_filter_by_site(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    burst_pipe("south-pump-1", "south")
    assert client.get("/api/v1/alarms", params={"site": "north"}).json() == []
    assert len(client.get("/api/v1/alarms", params={"site": "south"}).json()) == 1


def test_active_only_leaves_out_cleared_alarms(client: TestClient, services: Services,
                                               burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={})
    services.db.alarms.set_state(alarm.id, AlarmState.NORMAL, services.clock.now(), "test")
    assert client.get("/api/v1/alarms", params={"active_only": True}).json() == []
    assert len(client.get("/api/v1/alarms").json()) == 1


def test_acknowledge_records_who_and_when(client: TestClient, clock: ManualClock,
                                          burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    clock.advance(timedelta(minutes=3))
    response = client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={"actor": "ana", "note": "on my way"})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged_by"] == "ana"
    assert body["acknowledged_at"] == clock.now().isoformat().replace("+00:00", "Z")
    last = body["history"][-1]
    assert (last["from_state"], last["to_state"], last["actor"], last["note"]) == (
        "unacknowledged", "acknowledged", "ana", "on my way")


def test_second_acknowledge_is_409_naming_both_states(client: TestClient,
                                                      burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    assert client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={}).status_code == 200
    response = client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={})
    assert response.status_code == 409
    body = response.json()
    assert body["current"] == "acknowledged"
    assert "acknowledged" in body["detail"]


def test_comment_adds_to_history_without_changing_state(client: TestClient,
                                                        burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    response = client.post(f"/api/v1/alarms/{alarm.id}/comments",
                           json={"actor": "ben", "note": "valve closed at riser 3"})
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "unacknowledged"
    assert body["history"][-1]["note"] == "valve closed at riser 3"
    assert body["history"][-1]["actor"] == "ben"
    detail = client.get(f"/api/v1/alarms/{alarm.id}").json()
    assert [e["note"] for e in detail["history"]][-1] == "valve closed at riser 3"


def test_empty_comment_is_422(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    assert client.post(f"/api/v1/alarms/{alarm.id}/comments", json={"note": ""}).status_code == 422


def test_unknown_alarm_is_404_everywhere(client: TestClient) -> None:
    assert client.get("/api/v1/alarms/999").status_code == 404
    assert client.post("/api/v1/alarms/999/acknowledge", json={}).status_code == 404
    assert client.post("/api/v1/alarms/999/comments", json={"note": "x"}).status_code == 404
