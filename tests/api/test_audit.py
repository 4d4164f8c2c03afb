"""The audit log over the API: a write records who, what, the target, before and after; a write a route did
not record is recorded by the middleware; refused writes leave nothing; admins read it with filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from api.audit import remember_principal
from core.domain import Alarm
from core.errors import ServiceUnavailable
from people.model import Role
from tests.api.principals import act_as

REQUEST = {"requester": "Ms Chen", "phone": "555 0101", "address": "2-1203", "site_id": "north",
           "description": "no water on the 12th floor"}


def audit(app: FastAPI, client: TestClient, **params: Any) -> dict[str, Any]:
    act_as(app, "root", Role.ADMIN)
    response = client.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_an_acknowledgement_is_recorded_with_who_and_the_alarm_before_and_after(
        app: FastAPI, client: TestClient, burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    act_as(app, "ana", Role.OPERATOR)
    client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={"note": "on my way"},
                headers={"X-Request-ID": "req-42"})
    [entry] = audit(app, client, action="alarm.")["items"]
    assert {k: entry[k] for k in ("actor", "via", "action", "target_type", "target_id", "request_id", "status")} == {
        "actor": "ana", "via": "token", "action": "alarm.acknowledge", "target_type": "alarm",
        "target_id": str(alarm.id), "request_id": "req-42", "status": 200}
    assert (entry["before"]["state"], entry["after"]["state"]) == ("unacknowledged", "acknowledged")
    assert entry["after"]["acknowledged_by"] == "ana"
    assert "history" not in entry["after"]  # the alarm's own history keeps that


def test_a_refused_or_failed_write_leaves_no_entry(app: FastAPI, client: TestClient,
                                                   burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    act_as(app, "vic", Role.VIEWER)
    assert client.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={}).status_code == 403
    act_as(app, "ana", Role.OPERATOR)
    assert client.post("/api/v1/alarms/999999/acknowledge", json={}).status_code == 404
    assert audit(app, client)["total"] == 0


def test_an_open_write_is_recorded_by_the_fallback_as_anonymous(app: FastAPI, client: TestClient) -> None:
    with TestClient(app) as anonymous:
        order = anonymous.post("/api/v1/requests", json=REQUEST).json()
    [entry] = audit(app, client)["items"]
    assert (entry["actor"], entry["via"], entry["action"], entry["status"]) == (
        "anonymous", "public", "POST /api/v1/requests", 201)
    assert (entry["before"], entry["after"]) == (None, None)
    assert order["id"] > 0


def test_a_write_its_route_forgot_to_record_is_recorded_with_its_principal_and_target(app: FastAPI,
                                                                                       client: TestClient) -> None:
    forgetful = APIRouter()

    @forgetful.post("/gadgets/{gadget_id}/poke", status_code=202)
    def poke(gadget_id: int) -> dict[str, int]:
        return {"poked": gadget_id}

    app.include_router(forgetful, prefix="/api/v1", dependencies=[Depends(remember_principal)])
    act_as(app, "bo", Role.DISPATCHER)
    assert client.post("/api/v1/gadgets/5/poke").status_code == 202
    [entry] = audit(app, client)["items"]
    assert (entry["actor"], entry["action"], entry["target_id"], entry["status"]) == (
        "bo", "POST /api/v1/gadgets/5/poke", "5", 202)


def test_only_admins_read_the_log_and_it_pages_newest_first(app: FastAPI, client: TestClient) -> None:
    with TestClient(app) as anonymous:
        ids = [anonymous.post("/api/v1/requests", json=REQUEST).json()["id"] for _ in range(3)]
    for role in (Role.VIEWER, Role.OPERATOR, Role.DISPATCHER, Role.PLANNER, Role.SUPERVISOR):
        act_as(app, "someone", role)
        assert client.get("/api/v1/audit").status_code == 403
    first = audit(app, client, limit=2)
    second = audit(app, client, limit=2, cursor=first["next_cursor"])
    assert (first["total"], len(first["items"]), second["next_cursor"]) == (3, 2, None)
    entry_ids = [e["id"] for e in first["items"] + second["items"]]
    assert entry_ids == sorted(entry_ids, reverse=True)
    assert len(ids) == 3
    assert audit(app, client, actor="nobody")["total"] == 0
    naive = client.get("/api/v1/audit", params={"since": "2026-03-02T08:00:00"})
    assert naive.status_code == 422


def test_a_write_still_answers_when_its_fallback_entry_cannot_be_stored(app: FastAPI, services: Any,
                                                                       monkeypatch: Any,
                                                                       caplog: Any) -> None:
    def unavailable(_: Any) -> int:
        raise ServiceUnavailable("records database: down")

    monkeypatch.setattr(services.db.audit, "append", unavailable)
    with TestClient(app) as anonymous:
        assert anonymous.post("/api/v1/requests", json=REQUEST).status_code == 201
    assert "audit: could not record POST /api/v1/requests (status 201)" in caplog.text
