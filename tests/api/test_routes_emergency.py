"""Emergency-plan routes on the real rules service, work-order book and emergency runner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import Services
from core.clock import ManualClock
from core.domain import Alarm
from people.model import Role
from tests.api.principals import act_as
from workorders.emergency import default_plans
from workorders.emergency_runs import EmergencyRunner


@pytest.fixture(autouse=True)
def runner(services: Services) -> EmergencyRunner:
    runner = EmergencyRunner(default_plans(), services.db, services.book, services.bus, services.clock)
    services.bus.subscribe(runner.on_event, "workorder.")
    services.emergency = runner
    return runner


def post(client: TestClient, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/emergency{path}", json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def test_plans_list_their_steps_and_rules(client: TestClient) -> None:
    plans = {p["name"]: p for p in client.get("/api/v1/emergency/plans").json()["items"]}
    assert set(plans) == {"burst_pipe", "entrapment", "site_power_cut", "water_supply"}
    assert plans["site_power_cut"]["rules"] == ["site_power_cut"]
    assert plans["site_power_cut"]["steps"][0]["role"] == "operator"
    assert plans["site_power_cut"]["steps"][0]["within_min"] == 5


def test_a_burst_pipe_alarm_order_carries_the_burst_pipe_plan(client: TestClient,
                                                               burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    assert alarm.work_order_id is not None
    runs = client.get("/api/v1/emergency/runs", params={"work_order": alarm.work_order_id}).json()["items"]
    assert [(r["plan"], r["drill"], r["steps_done"], r["steps_total"]) for r in runs] == [("burst_pipe", False, 0, 6)]
    run = client.get(f"/api/v1/emergency/runs/{runs[0]['id']}").json()
    assert [s["role"] for s in run["steps"]][:2] == ["dispatcher", "technician"]


def test_a_drill_is_worked_step_by_step_and_ended_with_an_after_action(app: FastAPI, client: TestClient,
                                                                        clock: ManualClock) -> None:
    act_as(app, "sup-zhao", Role.SUPERVISOR)
    run = post(client, "/drills", site="north", plan="entrapment")
    assert (run["drill"], run["work_order_id"], run["started_by"]) == (True, None, "sup-zhao")
    clock.advance(timedelta(minutes=1))
    act_as(app, "op-li", Role.OPERATOR)
    run = post(client, f"/runs/{run['id']}/steps/1/done", note="two passengers, both fine")
    assert (run["steps"][0]["done_by"], run["steps"][0]["done_at"]) == ("op-li", "2026-03-02T08:01:00Z")
    conflict = client.post(f"/api/v1/emergency/runs/{run['id']}/steps/1/done", json={})
    assert conflict.status_code == 409
    active = client.get("/api/v1/emergency/runs", params={"site": "north", "active": True}).json()
    assert ([r["id"] for r in active["items"]], active["total"]) == ([run["id"]], 1)
    clock.advance(timedelta(minutes=6))
    post(client, f"/runs/{run['id']}/end")
    assert client.get("/api/v1/emergency/runs", params={"active": True}).json()["total"] == 0
    record = client.get(f"/api/v1/emergency/runs/{run['id']}/after-action").json()
    assert [e["what"] for e in record["timeline"]] == ["drill started", "step 1 done", "drill ended"]
    assert [(s["position"], s["late_min"]) for s in record["late_steps"]] == [(2, 2.0)]  # due at 5, ended at 7
    assert record["time_to_restore_min"] is None


@pytest.mark.parametrize(("body", "detail"), [
    ({"site": "north", "plan": "flood"}, "no emergency plan 'flood'"),
    ({"site": "west", "plan": "entrapment"}, "unknown site 'west'"),
])
def test_a_drill_of_an_unknown_plan_or_site_is_422(client: TestClient, body: dict[str, str], detail: str) -> None:
    response = client.post("/api/v1/emergency/drills", json=body)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_an_unknown_run_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/emergency/runs/99").status_code == 404
    assert client.post("/api/v1/emergency/runs/99/steps/1/done", json={}).status_code == 404
