"""The inspection-round routes on the real services (SQLite records, the work-order book)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from api.deps import Services
from core.clock import ManualClock
from core.domain import WorkOrderSource
from people.model import Role
from tests.api.conftest import START, TestClient
from tests.api.principals import act_as
from workorders.inspection_templates import packaged_templates
from workorders.rounds import InspectionRounds


@pytest.fixture
def rounds(services: Services) -> InspectionRounds:
    services.inspections = InspectionRounds(services.db, services.book, services.clock, packaged_templates())
    services.inspections.generate(timedelta(days=1))
    return services.inspections


def pump_round(client: TestClient) -> dict[str, Any]:
    found = client.get("/api/v1/inspections/rounds", params={"site": "north", "status": "scheduled"}).json()["items"]
    [round_] = [r for r in found if r["template"] == "pump_round"]
    return round_


def test_templates_list_the_elevator_item_sets(client: TestClient, rounds: InspectionRounds) -> None:
    answer = client.get("/api/v1/inspections/templates")
    templates = {t["id"]: t for t in answer.json()["items"]}
    assert answer.status_code == 200
    assert [s["name"] for s in templates["elevator_maintenance"]["sets"]] == [
        "half_monthly", "quarterly", "half_yearly", "annual"]
    assert templates["elevator_maintenance"]["every_days"] == 15


def test_rounds_are_listed_by_site_and_due_window(client: TestClient, rounds: InspectionRounds) -> None:
    north = client.get("/api/v1/inspections/rounds", params={"site": "north"}).json()["items"]
    first = client.get("/api/v1/inspections/rounds", params={"site": "north", "limit": 1}).json()
    rest = client.get("/api/v1/inspections/rounds", params={"site": "north", "limit": 1,
                                                           "cursor": first["next_cursor"]}).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [r["id"] for r in north]
    assert (first["total"], rest["next_cursor"]) == (2, None)
    assert sorted((r["template"], r["asset_id"]) for r in north) == [
        ("elevator_maintenance", "north-lift-a"), ("pump_round", "north-pump-1")]
    later = (START + timedelta(hours=3)).isoformat()
    assert client.get("/api/v1/inspections/rounds", params={"since": later}).json()["items"] == []
    naive = client.get("/api/v1/inspections/rounds", params={"since": "2026-03-02T08:00:00"})
    assert (naive.status_code, naive.json()["errors"][0]["field"]) == (422, "query.since")


def test_a_round_walked_over_the_api_opens_one_order_for_a_failed_measurement(
        app: FastAPI, client: TestClient, rounds: InspectionRounds, services: Services) -> None:
    round_id = pump_round(client)["id"]
    client.post(f"/api/v1/inspections/rounds/{round_id}/assign", json={"assignee": "wang"})
    act_as(app, "wang", Role.TECHNICIAN)  # the technician walks the round assigned to them
    started = client.post(f"/api/v1/inspections/rounds/{round_id}/start", json={}).json()
    assert (started["status"], started["assignee"], started["allowed"]) == ("in_progress", "wang",
                                                                            ["done", "missed"])
    url = f"/api/v1/inspections/rounds/{round_id}/results"
    first = client.post(url, json={"item": "vibration", "value": 7.1})
    again = client.post(url, json={"item": "vibration", "value": 7.3})
    assert (first.status_code, first.json()["passed"]) == (201, False)
    assert again.json()["work_order_id"] == first.json()["work_order_id"] is not None
    [order] = services.db.work_orders.list()
    assert (order.id, order.source) == (first.json()["work_order_id"], WorkOrderSource.INSPECTION)
    refused = client.post(f"/api/v1/inspections/rounds/{round_id}/complete", json={})
    assert refused.status_code == 422
    assert "not recorded: leaks, noise, discharge_pressure" in refused.json()["detail"]
    for item in client.get(f"/api/v1/inspections/rounds/{round_id}").json()["items"]:
        body = {"value": 4.0} if item["unit"] else {"passed": True}
        client.post(url, json={"item": item["id"], **body})
    done = client.post(f"/api/v1/inspections/rounds/{round_id}/complete", json={}).json()
    assert (done["status"], len(done["results"]), done["allowed"]) == ("done", len(done["items"]), [])


def test_a_result_needs_passed_or_a_value(client: TestClient, rounds: InspectionRounds) -> None:
    round_id = pump_round(client)["id"]
    answer = client.post(f"/api/v1/inspections/rounds/{round_id}/results", json={"item": "leaks"})
    assert answer.status_code == 422


def test_starting_a_round_twice_is_a_conflict_naming_the_allowed_steps(client: TestClient,
                                                                       rounds: InspectionRounds) -> None:
    round_id = pump_round(client)["id"]
    client.post(f"/api/v1/inspections/rounds/{round_id}/start", json={})
    again = client.post(f"/api/v1/inspections/rounds/{round_id}/start", json={})
    assert (again.status_code, again.json()["allowed"]) == (409, ["done", "missed"])


def test_the_report_names_missed_rounds(client: TestClient, rounds: InspectionRounds, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=7))  # 15:00: the 10:00 pump rounds are past their 4 h grace
    report = client.get("/api/v1/inspections/report").json()
    assert sorted(r["asset_id"] for r in report["missed"]) == ["north-pump-1", "south-pump-1"]
    assert (report["late"], report["on_time"], report["pending"]) == ([], [], 1)  # the elevator: 48 h grace


def test_the_routes_answer_503_when_rounds_do_not_run(client: TestClient) -> None:
    assert client.get("/api/v1/inspections/templates").status_code == 503
