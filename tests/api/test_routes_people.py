"""Technician, shift and dispatch routes on the real services (SQLite records, the work-order book)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.deps import Services
from core.clock import ManualClock
from people.records import PeopleRecords
from workorders.dispatcher import DispatchService

LIFT_TECH = {"name": "Tom Lift", "phone": "+86 10 5555", "skills": ["elevator"],
             "certificates": {"elevator": "2026-12-31"}, "sites": ["north"], "zone": "east"}


@pytest.fixture(autouse=True)
def dispatch(services: Services) -> DispatchService:
    """The services with dispatch wired as build_runtime wires it (the check guards the book)."""
    services.dispatch = DispatchService(services.db, PeopleRecords(services.db), services.book, services.clock)
    services.book.add_check(services.dispatch.check)
    return services.dispatch


def put(client: TestClient, user_id: str, **body: Any) -> dict[str, Any]:
    response = client.put(f"/api/v1/technicians/{user_id}", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def on_shift(client: TestClient, clock: ManualClock, user_id: str, hours: int = 8, on_call: bool = False) -> None:
    body = {"user_id": user_id, "starts_at": clock.now().isoformat(),
            "ends_at": (clock.now() + timedelta(hours=hours)).isoformat(), "on_call": on_call}
    response = client.post("/api/v1/shifts", json=body)
    assert response.status_code == 201, response.text


def lift_order(client: TestClient) -> int:
    response = client.post("/api/v1/workorders", json={"title": "Lift door sticks", "asset_id": "north-lift-a",
                                                       "kind": "corrective", "priority": "urgent"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_put_technician_creates_then_replaces(client: TestClient) -> None:
    created = put(client, "tom", **LIFT_TECH, roles=["supervisor"])
    assert created["roles"] == ["supervisor", "technician"]
    assert created["certificates"] == {"elevator": "2026-12-31"}
    put(client, "tom", **{**LIFT_TECH, "skills": ["elevator", "general"], "zone": "west"})
    listed = client.get("/api/v1/technicians").json()["items"]
    assert [(t["id"], t["skills"], t["zone"], t["roles"]) for t in listed] == \
        [("tom", ["elevator", "general"], "west", ["technician"])]
    assert client.get("/api/v1/technicians/tom").json()["phone"] == "+86 10 5555"


def test_technicians_come_in_pages_by_id(client: TestClient) -> None:
    for user_id in ("zoe", "amy", "tom"):
        put(client, user_id, **LIFT_TECH)
    first = client.get("/api/v1/technicians", params={"limit": 2}).json()
    rest = client.get("/api/v1/technicians", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["id"] for t in first["items"] + rest["items"]] == ["amy", "tom", "zoe"]
    assert (first["total"], rest["total"], rest["next_cursor"]) == (3, 3, None)


def test_technician_body_is_checked(client: TestClient) -> None:
    assert client.put("/api/v1/technicians/tom", json={**LIFT_TECH, "skills": ["juggling"]}).status_code == 422
    assert client.put("/api/v1/technicians/tom", json={**LIFT_TECH, "skills": []}).status_code == 422
    assert client.get("/api/v1/technicians/ghost").status_code == 404


def test_shifts_are_listed_by_window(client: TestClient, clock: ManualClock) -> None:
    put(client, "tom", **LIFT_TECH)
    on_shift(client, clock, "tom")
    on_shift(client, clock, "tom", hours=24, on_call=True)
    since = clock.now().isoformat()
    until = (clock.now() + timedelta(hours=1)).isoformat()
    shifts = client.get("/api/v1/shifts", params={"since": since, "until": until}).json()
    assert [(s["user_id"], s["on_call"], s["starts_at"]) for s in shifts["items"]] == \
        [("tom", False, "2026-03-02T08:00:00Z"), ("tom", True, "2026-03-02T08:00:00Z")]
    first = client.get("/api/v1/shifts", params={"since": since, "until": until, "limit": 1}).json()
    second = client.get("/api/v1/shifts", params={"since": since, "until": until, "limit": 1,
                                                   "cursor": first["next_cursor"]}).json()
    assert [s["id"] for s in first["items"] + second["items"]] == [s["id"] for s in shifts["items"]]
    assert (first["total"], second["next_cursor"]) == (2, None)
    later = (clock.now() + timedelta(days=2)).isoformat()
    assert client.get("/api/v1/shifts", params={"since": later, "until": later}).json()["total"] == 0


@pytest.mark.parametrize(("body", "status"), [
    ({"user_id": "ghost", "starts_at": "2026-03-02T08:00:00Z", "ends_at": "2026-03-02T16:00:00Z"}, 422),
    ({"user_id": "tom", "starts_at": "2026-03-02T08:00:00Z", "ends_at": "2026-03-02T07:00:00Z"}, 422),
    ({"user_id": "tom", "starts_at": "2026-03-02T08:00:00", "ends_at": "2026-03-02T16:00:00Z"}, 422),
])
def test_bad_shifts_are_refused(client: TestClient, body: dict[str, Any], status: int) -> None:
    put(client, "tom", **LIFT_TECH)
    assert client.post("/api/v1/shifts", json=body).status_code == status


def test_shift_window_needs_time_zones_and_order(client: TestClient) -> None:
    naive = {"since": "2026-03-02T08:00:00", "until": "2026-03-03T08:00:00Z"}
    backwards = {"since": "2026-03-03T08:00:00Z", "until": "2026-03-02T08:00:00Z"}
    assert client.get("/api/v1/shifts", params=naive).status_code == 422
    assert client.get("/api/v1/shifts", params=backwards).status_code == 422


def test_candidates_explain_who_and_who_not(client: TestClient, clock: ManualClock) -> None:
    put(client, "tom", **LIFT_TECH)
    put(client, "pia", name="Pia Pipes", skills=["plumber"])
    on_shift(client, clock, "tom")
    proposal = client.get(f"/api/v1/workorders/{lift_order(client)}/candidates").json()
    assert (proposal["skill"], proposal["certificate"]) == ("elevator", "elevator")
    assert [(c["user_id"], c["duty"], c["available"], c["nearness"]) for c in proposal["candidates"]] == \
        [("tom", "on shift", True, "site")]
    assert proposal["unqualified"] == [{"user_id": "pia", "reason": "pia lacks the 'elevator' skill"}]


def test_dispatch_auto_or_by_name_never_to_the_unqualified(client: TestClient, clock: ManualClock) -> None:
    put(client, "tom", **LIFT_TECH)
    put(client, "pia", name="Pia Pipes", skills=["plumber"])
    on_shift(client, clock, "tom")
    first, second = lift_order(client), lift_order(client)
    refused = client.post(f"/api/v1/workorders/{first}/dispatch", json={"technician": "pia"})
    assert refused.status_code == 422
    assert "pia lacks the 'elevator' skill" in refused.json()["detail"]
    auto = client.post(f"/api/v1/workorders/{first}/dispatch", json={})
    assert auto.status_code == 200, auto.text
    assert (auto.json()["status"], auto.json()["assignee"]) == ("dispatched", "tom")
    named = client.post(f"/api/v1/workorders/{second}/dispatch", json={"technician": "tom"})
    assert named.json()["assignee"] == "tom"
    again = client.post(f"/api/v1/workorders/{first}/dispatch", json={})  # a retry: the same technician
    assert again.status_code == 200
    assert (again.json()["assignee"], again.json()["version"]) == ("tom", auto.json()["version"])


def test_candidates_of_an_unknown_order_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/workorders/999/candidates").status_code == 404


def test_without_dispatch_the_routes_answer_503(client: TestClient, services: Services) -> None:
    services.dispatch = None
    assert client.get("/api/v1/technicians").status_code == 503
