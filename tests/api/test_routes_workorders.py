"""Work-order routes on the real book: sources, the loop's steps, comments, restore, pages and filters."""

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
from tests.api.conftest import ADMIN_ID
from tests.api.principals import act_as

RESIDENT = {"channel": "web", "requester": "Ms Chen", "phone": "+86 139 1111 2222", "address": "2-1203",
            "site_id": "north", "description": "Kitchen tap drips\nsince Monday"}


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/workorders", json={"title": "Dripping tap in 4B", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def move(client: TestClient, work_order_id: int, to_status: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/workorders/{work_order_id}/transitions", json={"to_status": to_status, **body})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# --- sources --------------------------------------------------------------------------------------------

def test_the_desk_opens_a_requested_order_with_source_desk(app: FastAPI, client: TestClient) -> None:
    act_as(app, "front desk", Role.DISPATCHER)
    order = create(client, site_id="north", description="kitchen, since Monday")
    assert (order["kind"], order["priority"], order["status"], order["version"]) == (
        "corrective", "normal", "requested", 1)
    assert (order["source"], order["source_ref"]) == ("desk", None)
    assert order["allowed"] == ["dispatched", "accepted", "cancelled"]
    # accepted within 1 working hour: 16:00 in Shanghai, so 17:00 (09:00Z)
    assert (order["opened_at"], order["due_at"]) == ("2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z")
    assert order["history"] == [{"at": "2026-03-02T08:00:00Z", "actor": "front desk", "action": "transition",
                                 "from_status": None, "to_status": "requested", "note": "", "data": {}}]


def test_an_order_about_an_asset_takes_the_asset_site(client: TestClient) -> None:
    order = create(client, asset_id="south-pump-1", priority="urgent")
    assert (order["site_id"], order["due_at"]) == ("south", "2026-03-02T08:30:00Z")  # urgent: accepted in 30 min


def test_a_site_level_order_names_its_assets_and_is_found_by_them(client: TestClient) -> None:
    order = create(client, site_id="north", related_assets=["north-pump-1", "north-lift-a"])
    assert order["related_assets"] == ["north-pump-1", "north-lift-a"]
    found = client.get("/api/v1/workorders", params={"asset": "north-lift-a"}).json()
    assert [o["id"] for o in found["items"]] == [order["id"]]


@pytest.mark.parametrize(("body", "detail"), [
    ({}, "give 'asset_id' or 'site_id'"),
    ({"site_id": "west"}, "unknown site 'west'"),
    ({"asset_id": "ghost"}, "unknown asset 'ghost'"),
    ({"asset_id": "south-pump-1", "site_id": "north"}, "is at site 'south'"),
])
def test_an_order_naming_wrong_places_is_422(client: TestClient, body: dict[str, str], detail: str) -> None:
    response = client.post("/api/v1/workorders", json={"title": "Noise", **body})
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_a_resident_files_a_request_online_without_a_token(app: Any, services: Services) -> None:
    with TestClient(app) as anonymous:  # no Authorization header
        assert anonymous.get("/api/v1/workorders").status_code == 401
        response = anonymous.post("/api/v1/requests", json=RESIDENT)
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["source"], order["channel"], order["kind"], order["status"]) == (
        "request", "web", "request", "requested")
    assert (order["requester"], order["caller_phone"], order["address"], order["site_id"]) == (
        "Ms Chen", "+86 139 1111 2222", "2-1203", "north")
    assert (order["title"], order["description"]) == ("Kitchen tap drips", "Kitchen tap drips\nsince Monday")
    assert order["history"][0]["actor"] == "Ms Chen"
    assert services.db.work_orders.get(order["id"]).requester == "Ms Chen"


def test_a_call_logged_by_the_desk_needs_the_token_and_the_callers_number_and_address(app: Any,
                                                                                      client: TestClient) -> None:
    call = {"channel": "phone", "phone": "555 0101", "address": "3-402", "asset_id": "north-lift-a",
            "description": "Lift A stops between floors", "priority": "urgent"}
    with TestClient(app) as anonymous:
        assert anonymous.post("/api/v1/requests", json=call).status_code == 401
    order = client.post("/api/v1/requests", json=call).json()
    assert (order["channel"], order["caller_phone"], order["address"], order["site_id"], order["requester"]) == (
        "phone", "555 0101", "3-402", "north", None)
    assert order["history"][0]["actor"] == ADMIN_ID  # the signed-in clerk
    for missing in ("phone", "address"):
        response = client.post("/api/v1/requests", json={k: v for k, v in call.items() if k != missing})
        assert response.status_code == 422
        assert f"a phone request needs {missing}" in response.text


@pytest.mark.parametrize(("change", "detail"), [
    ({"requester": None}, "needs requester"), ({"phone": "call me"}, "phone"), ({"description": ""}, "description"),
    ({"site_id": "west"}, "unknown site 'west'"), ({"site_id": None}, "give 'asset_id' or 'site_id'"),
])
def test_an_incomplete_online_request_is_422(client: TestClient, change: dict[str, Any], detail: str) -> None:
    response = client.post("/api/v1/requests", json={**RESIDENT, **change})
    assert response.status_code == 422
    assert detail in response.text


def test_an_alarm_born_order_says_where_it_came_from(client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    order = client.get(f"/api/v1/workorders/{alarm.work_order_id}").json()
    assert (order["source"], order["source_ref"], order["alarm_id"], order["priority"]) == (
        "alarm", f"alarm:{alarm.id}", alarm.id, "emergency")


# --- the loop -------------------------------------------------------------------------------------------

def test_the_whole_loop_over_the_api_with_every_field(client: TestClient, clock: ManualClock) -> None:
    order = create(client, asset_id="north-pump-1")
    dispatched = move(client, order["id"], "dispatched", assignee="tech-07", expected_version=1)
    assert (dispatched["version"], dispatched["allowed"]) == (2, ["requested", "accepted", "cancelled"])
    move(client, order["id"], "accepted", expected_version=2)
    clock.advance(timedelta(minutes=40))
    move(client, order["id"], "on_site")
    waiting = move(client, order["id"], "waiting", waiting_for="parts", note="seal ordered")
    assert waiting["waiting_for"] == "parts"
    move(client, order["id"], "in_progress")
    done = move(client, order["id"], "completed", note="tested 30 min", failure_code="seal_leak",
                cause="worn mechanical seal", remedy="seal replaced", labour_hours=2.5,
                parts=[{"part": "mechanical seal 32 mm", "quantity": 1}])
    assert (done["failure_code"], done["cause"], done["remedy"], done["labour_hours"], done["completion_notes"]) == (
        "seal_leak", "worn mechanical seal", "seal replaced", 2.5, "tested 30 min")
    assert done["parts"] == [{"part": "mechanical seal 32 mm", "quantity": 1.0}]
    assert (done["on_site_at"], done["completed_at"], done["restored_at"]) == ("2026-03-02T08:40:00Z",) * 3
    move(client, order["id"], "verified")
    followed = move(client, order["id"], "followed_up", satisfaction=5, note="very quick")
    assert (followed["satisfaction"], followed["follow_up_comment"]) == (5, "very quick")
    closed = move(client, order["id"], "closed")
    assert (closed["status"], closed["closed_at"], closed["allowed"], closed["version"]) == (
        "closed", "2026-03-02T08:40:00Z", [], 10)
    steps = [(e["from_status"], e["to_status"]) for e in closed["history"]]
    assert steps[-3:] == [("completed", "verified"), ("verified", "followed_up"), ("followed_up", "closed")]
    assert client.get(f"/api/v1/workorders/{order['id']}").json() == closed


def test_a_forbidden_step_is_409_naming_current_requested_and_allowed(client: TestClient) -> None:
    order = create(client, site_id="north")
    response = client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to_status": "closed"})
    assert response.status_code == 409
    assert {k: response.json()[k] for k in ("current", "requested", "allowed")} == {
        "current": "requested", "requested": "closed", "allowed": ["dispatched", "accepted", "cancelled"]}
    assert client.get(f"/api/v1/workorders/{order['id']}").json()["status"] == "requested"


def test_a_stale_version_is_409_and_a_lacking_step_422(client: TestClient) -> None:
    order = create(client, asset_id="north-lift-a")
    move(client, order["id"], "accepted")
    stale = client.post(f"/api/v1/workorders/{order['id']}/transitions",
                        json={"to_status": "on_site", "expected_version": 1})
    assert stale.status_code == 409
    assert "changed meanwhile" in stale.json()["detail"]
    move(client, order["id"], "on_site")
    lacking = client.post(f"/api/v1/workorders/{order['id']}/transitions",
                          json={"to_status": "completed", "cause": "door", "remedy": "adjusted",
                                "failure_code": "bearing"})
    assert lacking.status_code == 422
    assert "the labour hours" in lacking.json()["detail"]
    wrong_code = client.post(f"/api/v1/workorders/{order['id']}/transitions",
                             json={"to_status": "completed", "cause": "door", "remedy": "adjusted",
                                   "failure_code": "bearing", "labour_hours": 1})
    assert wrong_code.status_code == 422
    assert "not one of elevator's" in wrong_code.json()["detail"]


def test_a_repeated_step_is_200_and_records_nothing_but_another_persons_is_409(app: FastAPI,
                                                                                 client: TestClient) -> None:
    order = create(client, site_id="north")
    accepted = move(client, order["id"], "accepted")
    again = move(client, order["id"], "accepted")  # a double tap, a retried request
    assert again == accepted
    assert [e["to_status"] for e in again["history"]] == ["requested", "accepted"]
    act_as(app, "another-admin")
    taken = client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to_status": "accepted"})
    assert taken.status_code == 409  # someone else accepting an accepted order is refused, as before
    act_as(app, ADMIN_ID)
    assert move(client, order["id"], "on_site")["version"] == accepted["version"] + 1
    refused = client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to_status": "accepted"})
    assert refused.status_code == 409  # back from on site to accepted is really not allowed


def test_comments_and_restore_are_in_the_history(app: FastAPI, client: TestClient, clock: ManualClock) -> None:
    order = create(client, asset_id="north-pump-1")
    act_as(app, "desk", Role.DISPATCHER)
    too_early = client.post(f"/api/v1/workorders/{order['id']}/restore", json={})
    assert too_early.status_code == 422
    commented = client.post(f"/api/v1/workorders/{order['id']}/comments",
                            json={"note": "resident home after 6 pm"})
    assert commented.status_code == 201
    assert commented.json()["history"][-1] | {"at": None} == {
        "at": None, "actor": "desk", "action": "comment", "from_status": "requested", "to_status": "requested",
        "note": "resident home after 6 pm", "data": {}}
    assert client.post(f"/api/v1/workorders/{order['id']}/comments", json={"note": ""}).status_code == 422
    move(client, order["id"], "accepted")
    move(client, order["id"], "on_site")
    clock.advance(timedelta(minutes=12))
    restored = client.post(f"/api/v1/workorders/{order['id']}/restore", json={"note": "bypass open"}).json()
    assert (restored["status"], restored["restored_at"]) == ("on_site", "2026-03-02T08:12:00Z")
    assert restored["history"][-1]["action"] == "restore"


def test_unknown_status_is_422_and_unknown_order_404(client: TestClient) -> None:
    order = create(client, site_id="north")
    assert client.post(f"/api/v1/workorders/{order['id']}/transitions", json={"to_status": "done"}).status_code == 422
    assert client.get("/api/v1/workorders/404").status_code == 404
    for path in ("transitions", "comments", "restore"):
        response = client.post(f"/api/v1/workorders/404/{path}", json={"to_status": "accepted", "note": "x"})
        assert response.status_code == 404, path


def test_failure_codes_per_kind(client: TestClient) -> None:
    pump = client.get("/api/v1/failure-codes", params={"kind": "pump"}).json()["items"]
    assert {"code": "seal_leak", "label": "Mechanical seal or leak"} in pump
    assert "door_operator" not in {c["code"] for c in pump}
    site = [c["code"] for c in client.get("/api/v1/failure-codes").json()["items"]]
    assert site[0] == "power_supply"
    assert client.get("/api/v1/failure-codes", params={"kind": "boiler"}).status_code == 422


# --- lists ----------------------------------------------------------------------------------------------

def ids(client: TestClient, **params: Any) -> list[int]:
    response = client.get("/api/v1/workorders", params=params)
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["items"]]


def test_list_filters(client: TestClient, clock: ManualClock, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()  # an emergency order on north-pump-1
    request = client.post("/api/v1/requests", json={**RESIDENT, "site_id": "south"}).json()
    cancelled = create(client, asset_id="north-lift-a", priority="urgent")
    move(client, cancelled["id"], "cancelled", note="duplicate")
    mine = create(client, asset_id="north-light-1", kind="preventive")
    move(client, mine["id"], "dispatched", assignee="tech-07")
    newest_first = [mine["id"], cancelled["id"], request["id"], alarm.work_order_id]

    assert ids(client) == newest_first
    assert ids(client, site="south") == [request["id"]]
    assert ids(client, asset="north-pump-1") == [alarm.work_order_id]
    assert ids(client, status="cancelled") == [cancelled["id"]]
    assert ids(client, open_only=True) == [mine["id"], request["id"], alarm.work_order_id]
    assert ids(client, assignee="tech-07") == [mine["id"]]
    assert ids(client, kind="preventive") == [mine["id"]]
    assert ids(client, priority="emergency") == [alarm.work_order_id]
    assert ids(client, source="request") == [request["id"]]
    assert ids(client, source="alarm") == [alarm.work_order_id]
    assert ids(client, overdue=True) == []
    clock.advance(timedelta(hours=1))  # past the emergency's 30 minutes, not the others' days
    assert ids(client, overdue=True) == [alarm.work_order_id]
    assert client.get("/api/v1/workorders", params={"source": "fax"}).status_code == 422


def test_pages_follow_the_cursor_with_a_total_and_stable_order(client: TestClient, clock: ManualClock) -> None:
    made = []
    for i in range(7):
        made.append(create(client, site_id="north", title=f"job {i}")["id"])
        if i % 3 == 2:
            clock.advance(timedelta(minutes=1))  # some orders share an opening time: the id breaks ties
    seen, cursor, totals = [], None, set()
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/workorders", params=params).json()
        seen += [o["id"] for o in page["items"]]
        totals.add(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert totals == {7}
    filtered = client.get("/api/v1/workorders", params={"limit": 2, "status": "requested", "site": "north"}).json()
    assert (len(filtered["items"]), filtered["total"]) == (2, 7)


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyIyMDI2LTAzLTAyVDA4OjAwOjAwIiwgMV0"])
def test_a_cursor_not_given_by_the_server_is_422(client: TestClient, cursor: str) -> None:
    response = client.get("/api/v1/workorders", params={"cursor": cursor})
    assert response.status_code == 422
    assert "invalid cursor" in response.json()["detail"]
