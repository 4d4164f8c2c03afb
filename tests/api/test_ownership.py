"""Technicians see and work only the orders and rounds assigned to them; residents see only the requests and
complaints they filed, and may only verify, rate or withdraw them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.app import create_app
from api.deps import Services
from core.domain import RequestChannel, WorkOrderKind, WorkOrderPriority
from people.model import Role
from storage.records.inspections import RoundFilter
from storage.records.models import ComplaintRow
from tests.api.principals import act_as
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import ComplaintCategory
from workorders.inspection_templates import packaged_templates
from workorders.rounds import InspectionRounds


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(replace(
        services, complaints=ComplaintDesk(services.db, services.book, services.bus, services.clock),
        inspections=InspectionRounds(services.db, services.book, services.clock, packaged_templates())))


def order(services: Services, title: str, **fields: str) -> int:
    opened, _ = services.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, title, "north",
                                   asset_id="north-pump-1", **fields)
    return opened.id


def test_a_technician_sees_and_works_only_the_orders_assigned_to_them(app: FastAPI, client: TestClient,
                                                                      services: Services) -> None:
    mine = order(services, "mine", assignee="wang")
    theirs = order(services, "theirs", assignee="li")
    order(services, "nobody's")
    act_as(app, "wang", Role.TECHNICIAN)
    listed = client.get("/api/v1/workorders").json()
    assert ([o["id"] for o in listed["items"]], listed["total"]) == ([mine], 1)
    assert client.get("/api/v1/workorders", params={"assignee": "li"}).json()["items"] == []
    assert client.get(f"/api/v1/workorders/{theirs}").status_code == 404
    assert client.get(f"/api/v1/workorders/{theirs}/sla").status_code == 404
    assert client.post(f"/api/v1/workorders/{theirs}/transitions", json={"to_status": "accepted"}).status_code == 403
    accepted = client.post(f"/api/v1/workorders/{mine}/transitions", json={"to_status": "accepted"})
    assert (accepted.status_code, accepted.json()["history"][-1]["actor"]) == (200, "wang")
    # The desk's steps are not the technician's, even on their own order.
    assert client.post(f"/api/v1/workorders/{mine}/transitions",
                       json={"to_status": "cancelled", "note": "no"}).status_code == 403
    assert client.get("/api/v1/alarms").status_code == 403  # no staff reads


def test_a_resident_sees_only_their_own_requests_and_may_verify_them(app: FastAPI, client: TestClient,
                                                                     services: Services) -> None:
    mine = order(services, "my tap", reporter_id="chen")
    other = order(services, "their tap", reporter_id="zhou")
    act_as(app, "chen", Role.RESIDENT)
    assert [o["id"] for o in client.get("/api/v1/workorders").json()["items"]] == [mine]
    assert client.get(f"/api/v1/workorders/{mine}").status_code == 200
    assert client.get(f"/api/v1/workorders/{other}").status_code == 404
    assert client.post(f"/api/v1/workorders/{other}/comments", json={"note": "me too"}).status_code == 403
    commented = client.post(f"/api/v1/workorders/{mine}/comments", json={"note": "home after 6"})
    assert (commented.status_code, commented.json()["history"][-1]["actor"]) == (201, "chen")
    # Verifying is theirs (409 here: the work is not complete yet); accepting is not.
    assert client.post(f"/api/v1/workorders/{mine}/transitions", json={"to_status": "verified"}).status_code == 409
    assert client.post(f"/api/v1/workorders/{mine}/transitions", json={"to_status": "accepted"}).status_code == 403


def test_a_resident_sees_and_withdraws_only_their_own_complaints(app: FastAPI, client: TestClient,
                                                                 services: Services) -> None:
    desk: ComplaintDesk = app.state.services.complaints
    mine = desk.register("north", RequestChannel.WEB, ComplaintCategory.NOISE, "Ms Chen", "pump hum", "desk")
    other = desk.register("north", RequestChannel.WEB, ComplaintCategory.NOISE, "Mr Zhou", "lift hum", "desk")
    with services.db.sessions.begin() as session:
        session.execute(update(ComplaintRow).where(ComplaintRow.id == mine.id).values(reporter_id="chen"))
    act_as(app, "chen", Role.RESIDENT)
    assert [c["id"] for c in client.get("/api/v1/complaints").json()["items"]] == [mine.id]
    assert client.get(f"/api/v1/complaints/{other.id}").status_code == 404
    move = f"/api/v1/complaints/{mine.id}/transitions"
    assert client.post(move, json={"to_status": "investigating"}).status_code == 403
    withdrawn = client.post(move, json={"to_status": "withdrawn", "note": "it stopped"})
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert client.post(f"/api/v1/complaints/{other.id}/transitions",
                       json={"to_status": "withdrawn", "note": "x"}).status_code == 403


def test_a_technician_lists_and_walks_only_their_own_rounds(app: FastAPI, client: TestClient,
                                                           services: Services) -> None:
    rounds = app.state.services.inspections
    rounds.generate(timedelta(days=1))
    first, second = services.db.inspections.list(RoundFilter(), 2)
    rounds.assign(first.id, "wang")
    rounds.assign(second.id, "li")
    act_as(app, "wang", Role.TECHNICIAN)
    assert [r["id"] for r in client.get("/api/v1/inspections/rounds").json()["items"]] == [first.id]
    assert client.get(f"/api/v1/inspections/rounds/{second.id}").status_code == 404
    assert client.post(f"/api/v1/inspections/rounds/{second.id}/start").status_code == 403
    started = client.post(f"/api/v1/inspections/rounds/{first.id}/start")
    assert (started.status_code, started.json()["status"]) == (200, "in_progress")
