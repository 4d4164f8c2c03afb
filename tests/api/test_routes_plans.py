"""The plan routes on the real services (SQLite records, the work-order book, the notice board); the solver
answers with a scripted plan so that the routes' mapping is what is tested."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import vobject
from fastapi import FastAPI

from api.deps import Services
from core.plans import PlanTask, SolveStatus
from people.model import Role, Skill, Technician, User
from people.records import PeopleRecords
from predictor.plan_inputs import PlannerSetup, ProblemBuilder
from predictor.planner_service import PlanningService
from predictor.planning.problem import Problem, Solution
from tests.api.conftest import START, TestClient
from tests.api.principals import act_as
from workorders.notice_board import NoticeBoard

TODAY = START.date()


def task(asset: str, planned_in: int, tech: str, rule: str = "pump.service") -> PlanTask:
    site = asset.split("-")[0]
    return PlanTask(rule, asset, site, TODAY + timedelta(days=planned_in + 2), TODAY + timedelta(days=planned_in),
                    tech, "Pump service", 2.0, 180.0, 60.0, ("P10 of remaining life is 12 days", "service due"))


def scripted(problem: Problem, time_limit_s: float) -> Solution:
    tasks = [task("north-pump-1", 3, "pia"), task("south-pump-1", 5, "pia"),
             task("north-lift-a", 4, "tom", "elevator.door_overhaul")]
    return Solution(SolveStatus.OPTIMAL, tasks, 540.0, {"tasks": 3.0})


@pytest.fixture
def planning(services: Services) -> PlanningService:
    people = PeopleRecords(services.db)
    people.users.upsert(User("pia", "Pia Chen"), START)
    people.technicians.upsert(Technician("pia", frozenset({Skill.PLUMBER})))
    builder = ProblemBuilder(services.db, people, PlannerSetup.load())
    services.planning = PlanningService(services.db, services.book, services.clock, builder, scripted,
                                        notices=NoticeBoard(services.db, services.bus, services.clock))
    return services.planning


def test_replanning_opens_orders_once_and_the_latest_plan_says_how_it_went(app: FastAPI, client: TestClient,
                                                                            planning: PlanningService) -> None:
    act_as(app, "planner", Role.PLANNER)
    assert client.get("/api/v1/plans/latest").status_code == 404
    first = client.post("/api/v1/plans", json={})
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("tasks", "opened", "moved", "dropped")} == {
        "tasks": 3, "opened": 3, "moved": 0, "dropped": 0}
    assert client.post("/api/v1/plans", json={}).json()["opened"] == 0
    latest = client.get("/api/v1/plans/latest").json()
    assert (latest["status"], latest["expected_cost"], latest["created_by"]) == ("optimal", 540.0, "planner")
    assert latest["horizon_end"] == (TODAY + timedelta(days=89)).isoformat()


def test_tasks_are_paged_by_day_with_their_explanation_and_total(client: TestClient,
                                                                  planning: PlanningService) -> None:
    client.post("/api/v1/plans", json={})
    first = client.get("/api/v1/plan-tasks", params={"limit": 2}).json()
    assert first["total"] == 3
    assert [t["asset_id"] for t in first["items"]] == ["north-pump-1", "north-lift-a"]
    assert first["items"][0]["explanation"] == "P10 of remaining life is 12 days; service due"
    rest = client.get("/api/v1/plan-tasks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert ([t["asset_id"] for t in rest["items"]], rest["next_cursor"]) == (["south-pump-1"], None)
    narrowed = client.get("/api/v1/plan-tasks", params={"technician": "pia", "status": ["proposed", "accepted"],
                                                        "since": (TODAY + timedelta(days=4)).isoformat()}).json()
    assert [t["asset_id"] for t in narrowed["items"]] == ["south-pump-1"]
    assert client.get("/api/v1/plan-tasks", params={"cursor": "nonsense"}).status_code == 422
    one = first["items"][0]
    assert client.get(f"/api/v1/plan-tasks/{one['id']}").json()["work_order_id"] == one["work_order_id"]
    assert client.get("/api/v1/plan-tasks/999999").status_code == 404


def test_planners_accept_move_and_reject_and_a_stale_decision_is_a_conflict(app: FastAPI, client: TestClient,
                                                                             planning: PlanningService) -> None:
    act_as(app, "zhao", Role.PLANNER)
    client.post("/api/v1/plans", json={})
    pump, lift, south = (t["id"] for t in client.get("/api/v1/plan-tasks").json()["items"])
    accepted = client.post(f"/api/v1/plan-tasks/{pump}/accept", json={"expected_status": "proposed"})
    assert (accepted.json()["status"], accepted.json()["decided_by"]) == ("accepted", "zhao")
    stale = client.post(f"/api/v1/plan-tasks/{pump}/reject", json={"reason": "x", "expected_status": "proposed"})
    assert stale.status_code == 409
    assert client.post(f"/api/v1/plan-tasks/{lift}/move", json={"planned_date": "2026-04-01"}).status_code == 422
    day = (TODAY + timedelta(days=10)).isoformat()
    moved = client.post(f"/api/v1/plan-tasks/{lift}/move", json={"planned_date": day, "reason": "lift in use"})
    assert (moved.json()["status"], moved.json()["planned_date"], moved.json()["move_reason"]) == (
        "moved", day, "lift in use")
    order = client.get(f"/api/v1/workorders/{moved.json()['work_order_id']}").json()
    assert date.fromisoformat(order["due_at"][:10]) == TODAY + timedelta(days=11)
    rejected = client.post(f"/api/v1/plan-tasks/{south}/reject", json={"reason": "pump replaced"})
    assert rejected.json()["status"] == "rejected"
    assert client.get(f"/api/v1/workorders/{rejected.json()['work_order_id']}").json()["status"] == "cancelled"
    assert client.post(f"/api/v1/plan-tasks/{south}/reject", json={"reason": " "}).status_code == 422
    assert client.post("/api/v1/plan-tasks/999999/accept", json={}).status_code == 404


def test_exports_come_as_icalendar_and_csv(client: TestClient, planning: PlanningService) -> None:
    client.post("/api/v1/plans", json={})
    answer = client.get("/api/v1/plan/technicians/pia.ics")
    assert answer.headers["content-type"].startswith("text/calendar")
    events = vobject.readOne(answer.text).vevent_list
    assert sorted(e.summary.value for e in events) == ["Pump service: north-pump-1", "Pump service: south-pump-1"]
    site = vobject.readOne(client.get("/api/v1/plan/sites/north.ics").text)
    assert site.x_wr_calname.value == "North Tower: maintenance plan"
    assert len(site.vevent_list) == 2
    assert client.get("/api/v1/plan/technicians/nobody.ics").status_code == 404
    assert client.get("/api/v1/plan/sites/atlantis.ics").status_code == 404
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/plan.csv", params={"site": "south"}).text)))
    assert [(r["asset_id"], r["explanation"]) for r in rows] == [
        ("south-pump-1", "P10 of remaining life is 12 days; service due")]


def test_without_a_planner_the_routes_answer_503(client: TestClient) -> None:
    assert client.get("/api/v1/plans/latest").status_code == 503
    assert client.get("/api/v1/plan-tasks").status_code == 503
