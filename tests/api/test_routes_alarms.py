"""Alarm routes on the real rules service: list, detail with history, acknowledge, comment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Services
from core.clock import ManualClock
from core.domain import Alarm, AlarmState, Severity
from people.model import Role
from tests.api.principals import act_as


def test_burst_pipe_alarm_is_listed_as_active(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    listed = client.get("/api/v1/alarms", params={"active_only": True}).json()["items"]
    assert [a["id"] for a in listed] == [alarm.id]
    assert listed[0]["rule_id"] == "pump_burst_pipe"
    assert listed[0]["severity"] == "critical"
    assert listed[0]["state"] == "unacknowledged"
    assert listed[0]["active"] is True
    assert listed[0]["work_order_id"] is not None  # the rule opens an emergency work order


def test_alarms_filter_by_site(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    burst_pipe("south-pump-1", "south")
    assert client.get("/api/v1/alarms", params={"site": "north"}).json()["items"] == []
    assert len(client.get("/api/v1/alarms", params={"site": "south"}).json()["items"]) == 1


def test_active_only_leaves_out_cleared_alarms(client: TestClient, services: Services,
                                               burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={})
    services.db.alarms.set_state(alarm.id, AlarmState.NORMAL, services.clock.now(), "test")
    assert client.get("/api/v1/alarms", params={"active_only": True}).json()["items"] == []
    assert len(client.get("/api/v1/alarms").json()["items"]) == 1


def test_acknowledge_records_who_and_when(app: FastAPI, client: TestClient, clock: ManualClock,
                                          burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    act_as(app, "ana", Role.OPERATOR)  # the signed-in operator is the actor; a body cannot say otherwise
    clock.advance(timedelta(minutes=3))
    response = client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={"note": "on my way", "actor": "mallory"})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged_by"] == "ana"
    assert body["acknowledged_at"] == clock.now().isoformat().replace("+00:00", "Z")
    last = body["history"][-1]
    assert (last["from_state"], last["to_state"], last["actor"], last["note"]) == (
        "unacknowledged", "acknowledged", "ana", "on my way")


def test_second_acknowledge_is_a_no_op(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    first = client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={"actor": "ana"})
    assert first.status_code == 200
    second = client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={"actor": "bo"})
    assert second.status_code == 200
    assert second.json() == first.json()  # same acknowledger, time and history: nothing recorded twice


def test_comment_adds_to_history_without_changing_state(app: FastAPI, client: TestClient,
                                                        burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    act_as(app, "ben", Role.SUPERVISOR)
    response = client.post(f"/api/v1/alarms/{alarm.id}/comments",
                           json={"note": "valve closed at riser 3"})
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


# --- shelving, assignment, filters -----------------------------------------------------

def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_shelve_filter_and_unshelve(app: FastAPI, client: TestClient, clock: ManualClock,
                                    burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    act_as(app, "ana", Role.OPERATOR)
    until = clock.now() + timedelta(hours=2)
    response = client.post(f"/api/v1/alarms/{alarm.id}/shelve",
                           json={"until": _iso(until), "reason": "flow meter swap"})
    assert response.status_code == 200
    body = response.json()
    assert (body["shelved_until"], body["shelve_reason"], body["muted"]) == (_iso(until), "flow meter swap", True)
    assert body["history"][-1]["actor"] == "ana"
    assert [a["id"] for a in client.get("/api/v1/alarms", params={"shelved": True}).json()["items"]] == [alarm.id]
    assert client.get("/api/v1/alarms", params={"shelved": False}).json()["items"] == []
    unshelved = client.post(f"/api/v1/alarms/{alarm.id}/unshelve", json={}).json()
    assert (unshelved["shelved_until"], unshelved["muted"]) == (None, False)
    second = client.post(f"/api/v1/alarms/{alarm.id}/unshelve", json={})
    assert second.status_code == 200  # a repeated unshelve changes nothing
    assert second.json()["history"] == unshelved["history"]


def test_shelve_in_the_past_is_409_and_without_time_zone_is_422(client: TestClient, clock: ManualClock,
                                                                 burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    past = client.post(f"/api/v1/alarms/{alarm.id}/shelve",
                       json={"until": _iso(clock.now() - timedelta(minutes=1)), "reason": "x"})
    assert past.status_code == 409
    assert "past" in past.json()["detail"]
    naive = client.post(f"/api/v1/alarms/{alarm.id}/shelve", json={"until": "2026-03-02T10:00:00", "reason": "x"})
    assert naive.status_code == 422
    assert client.post("/api/v1/alarms/999/shelve", json={"until": _iso(clock.now()), "reason": "x"}).status_code == 404


def test_assign_and_state_filter(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    body = client.post(f"/api/v1/alarms/{alarm.id}/assign", json={"assignee": "tech-7"}).json()
    assert body["assignee"] == "tech-7"
    assert body["history"][-1]["note"] == "assigned to tech-7"
    assert len(client.get("/api/v1/alarms", params={"state": "unacknowledged"}).json()["items"]) == 1
    assert client.get("/api/v1/alarms", params={"state": "acknowledged"}).json()["items"] == []
    assert client.get("/api/v1/alarms", params={"suppressed": True}).json()["items"] == []
    assert client.get("/api/v1/alarms", params={"state": "bogus"}).status_code == 422


def test_assigning_a_normal_alarm_is_409(client: TestClient, services: Services,
                                         burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    services.db.alarms.set_state(alarm.id, AlarmState.NORMAL, services.clock.now(), "test")
    response = client.post(f"/api/v1/alarms/{alarm.id}/assign", json={"assignee": "x"})
    assert response.status_code == 409
    assert response.json()["current"] == "normal"


def test_suppressed_alarms_are_listed_under_their_cause(client: TestClient, services: Services,
                                                        clock: ManualClock) -> None:
    cause, _ = services.db.alarms.raise_alarm("site_power_cut", "north", "north", Severity.CRITICAL, "cut",
                                              clock.now())
    child, _ = services.db.alarms.raise_alarm("mains_lost", "north-pump-1", "north", Severity.HIGH, "no mains",
                                              clock.now())
    services.db.alarms.set_flags(child.id, clock.now(), "rules", suppressed_by=cause.id)
    detail = client.get(f"/api/v1/alarms/{cause.id}").json()
    assert [a["id"] for a in detail["suppressed"]] == [child.id]
    assert [a["id"] for a in client.get("/api/v1/alarms", params={"suppressed": False}).json()["items"]] == [cause.id]


def test_kpis_count_the_raises(client: TestClient, clock: ManualClock, burst_pipe: Callable[..., Alarm]) -> None:
    burst_pipe()
    figures = client.get("/api/v1/alarms/kpis").json()
    assert figures["alarms"] == 1
    assert figures["intervals"] == 145
    assert figures["priority_mix"]["critical"] == 1.0
    assert figures["top10"] == [{"rule_id": "pump_burst_pipe", "asset_id": "north-pump-1", "alarms": 1}]
    later = client.get("/api/v1/alarms/kpis", params={"since": _iso(clock.now() + timedelta(minutes=1)),
                                                      "until": _iso(clock.now() + timedelta(hours=1))}).json()
    assert later["alarms"] == 0
    assert client.get("/api/v1/alarms/kpis", params={"since": _iso(clock.now()),
                                                     "until": _iso(clock.now())}).status_code == 422


# --- maintenance windows ------------------------------------------------------------------------------

def test_maintenance_window_crud_and_out_of_service(app: FastAPI, client: TestClient, clock: ManualClock,
                                                    services: Services, burst_pipe: Callable[..., Alarm]) -> None:
    act_as(app, "planner", Role.OPERATOR)
    burst = burst_pipe()  # safety-critical: never out of service, not even in a window
    alarm, _ = services.db.alarms.raise_alarm("pump_bearing_temp", "north-pump-1", "north", Severity.HIGH,
                                              "bearing hot", clock.now())
    since, until = clock.now() - timedelta(minutes=1), clock.now() + timedelta(hours=4)
    created = client.post("/api/v1/maintenance-windows", json={
        "site_id": "north", "asset_id": "north-pump-1", "since": _iso(since), "until": _iso(until),
        "reason": "seal replacement"})
    assert created.status_code == 201
    window = created.json()
    assert (window["asset_id"], window["created_by"]) == ("north-pump-1", "planner")
    assert client.get(f"/api/v1/alarms/{alarm.id}").json()["out_of_service"].startswith(
        f"maintenance window #{window['id']}")
    assert client.get(f"/api/v1/alarms/{burst.id}").json()["out_of_service"] == ""
    assert [w["id"] for w in client.get("/api/v1/maintenance-windows", params={"site": "north"}).json()["items"]] == [
        window["id"]]
    moved = client.put(f"/api/v1/maintenance-windows/{window['id']}", json={
        "site_id": "north", "asset_id": None, "since": _iso(since), "until": _iso(until + timedelta(hours=1)),
        "reason": "whole site"}).json()
    assert (moved["asset_id"], moved["reason"]) == (None, "whole site")
    assert client.delete(f"/api/v1/maintenance-windows/{window['id']}").status_code == 204
    assert client.get(f"/api/v1/maintenance-windows/{window['id']}").status_code == 404
    assert client.get(f"/api/v1/alarms/{alarm.id}").json()["out_of_service"] == ""


def test_maintenance_window_validation(client: TestClient, clock: ManualClock) -> None:
    base = {"since": _iso(clock.now()), "until": _iso(clock.now() + timedelta(hours=1)), "reason": "x"}
    assert client.post("/api/v1/maintenance-windows", json={**base, "site_id": "nowhere"}).status_code == 422
    assert client.post("/api/v1/maintenance-windows",
                       json={**base, "site_id": "north", "asset_id": "south-pump-1"}).status_code == 422
    backwards = {**base, "until": _iso(clock.now() - timedelta(hours=1)), "site_id": "north"}
    assert client.post("/api/v1/maintenance-windows", json=backwards).status_code == 422


# --- rule reload -----------------------------------------------------------------------------------------

def test_rule_reload_without_files_is_422_and_with_a_source_reports_counts(client: TestClient,
                                                                           services: Services) -> None:
    response = client.post("/api/v1/rules/reload")
    assert response.status_code == 422
    assert "no rule source" in response.json()["detail"]
    services.rules._source = lambda: services.rules.rules[:-1]  # as if one rule was removed from the files
    counts = client.post("/api/v1/rules/reload").json()
    assert counts["removed"] == 1
    assert counts["kept"] == len(services.rules.rules)


def test_shelve_for_a_duration_of_service_time(client: TestClient, clock: ManualClock,
                                               burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    body = client.post(f"/api/v1/alarms/{alarm.id}/shelve", json={"for_s": 3600, "reason": "x"}).json()
    assert body["shelved_until"] == _iso(clock.now() + timedelta(hours=1))
    both = {"for_s": 60, "until": _iso(clock.now() + timedelta(hours=1)), "reason": "x"}
    assert client.post(f"/api/v1/alarms/{alarm.id}/shelve", json=both).status_code == 422
    assert client.post(f"/api/v1/alarms/{alarm.id}/shelve", json={"reason": "x"}).status_code == 422
