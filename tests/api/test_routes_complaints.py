"""Complaint and notice routes, and the open per-site feeds, on the real desk, board and records."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import icalendar
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.deps import Services
from core.clock import ManualClock
from core.domain import WorkOrderKind, WorkOrderPriority, WorkOrderSource
from people.model import Role
from tests.api.principals import act_as
from workorders.complaint_desk import ComplaintDesk
from workorders.notice_board import NoticeBoard

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ATOM = "{http://www.w3.org/2005/Atom}"
WINDOW = {"starts_at": "2026-03-03T01:00:00Z", "ends_at": "2026-03-03T04:00:00Z"}


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(dataclasses.replace(
        services, complaints=ComplaintDesk(services.db, services.book, services.bus, services.clock),
        notices=NoticeBoard(services.db, services.bus, services.clock)))


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def ok(response: Any, code: int = 200) -> dict[str, Any]:
    assert response.status_code == code, response.text
    return response.json()  # type: ignore[no-any-return]


def register(client: TestClient, **body: Any) -> dict[str, Any]:
    return ok(client.post("/api/v1/complaints", json={
        "site_id": "north", "category": "noise", "complainant": "Ms Li, 12B", "phone": "13800000000",
        "description": "pump room hums all night", **body}), 201)


def move(client: TestClient, complaint_id: int, to_status: str, **body: Any) -> dict[str, Any]:
    return ok(client.post(f"/api/v1/complaints/{complaint_id}/transitions", json={"to_status": to_status, **body}))


def test_registered_complaint_answers_with_its_deadline_history_and_next_steps(app: FastAPI,
                                                                              client: TestClient) -> None:
    act_as(app, "service desk", Role.DISPATCHER)
    complaint = register(client, channel="web")
    assert (complaint["status"], complaint["channel"], complaint["category"]) == ("received", "web", "noise")
    assert (complaint["received_at"], complaint["respond_due_at"]) == ("2026-03-02T08:00:00Z",
                                                                       "2026-03-03T08:00:00Z")
    assert (complaint["overdue"], complaint["allowed"], complaint["version"]) == (
        False, ["investigating", "withdrawn"], 1)
    assert complaint["history"] == [{"at": "2026-03-02T08:00:00Z", "actor": "service desk", "from_status": None,
                                     "to_status": "received", "note": ""}]


@pytest.mark.parametrize("body", [{"category": "weather"}, {"site_id": "west"}, {"complainant": ""}])
def test_complaint_with_a_bad_field_is_422(client: TestClient, body: dict[str, str]) -> None:
    response = client.post("/api/v1/complaints", json={
        "site_id": "north", "category": "noise", "complainant": "Ms Li", "description": "hum", **body})
    assert response.status_code == 422


def test_overdue_filter_lists_complaints_past_their_first_response_deadline(client: TestClient,
                                                                            clock: ManualClock) -> None:
    waiting = register(client)
    handled = register(client)
    move(client, handled["id"], "investigating")
    register(client, site_id="south")
    clock.advance(timedelta(hours=25))
    overdue = ok(client.get("/api/v1/complaints", params={"overdue": "true", "site": "north"}))["items"]
    assert [(c["id"], c["overdue"]) for c in overdue] == [(waiting["id"], True)]
    assert ok(client.get("/api/v1/complaints", params={"overdue": "true"}))["total"] == 2
    assert [c["id"] for c in ok(client.get("/api/v1/complaints", params={"status": "investigating"}))["items"]] == [
        handled["id"]]


def test_complaints_come_in_pages_newest_first_with_a_total(client: TestClient, clock: ManualClock) -> None:
    filed = []
    for _ in range(5):
        filed.append(register(client)["id"])
        clock.advance(timedelta(minutes=1))
    seen: list[int] = []
    cursor = None
    while True:
        page = ok(client.get("/api/v1/complaints", params={"limit": 2, **({"cursor": cursor} if cursor else {})}))
        assert page["total"] == 5
        seen.extend(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == filed[::-1]
    assert client.get("/api/v1/complaints", params={"cursor": "nonsense"}).status_code == 422


def test_complaint_goes_round_the_loop_and_refuses_a_forbidden_step(client: TestClient) -> None:
    complaint_id = register(client)["id"]
    refused = client.post(f"/api/v1/complaints/{complaint_id}/transitions", json={"to_status": "answered"})
    assert refused.status_code == 409
    assert refused.json()["allowed"] == ["investigating", "withdrawn"]
    move(client, complaint_id, "investigating")
    lacking = client.post(f"/api/v1/complaints/{complaint_id}/transitions", json={"to_status": "answered"})
    assert lacking.status_code == 422
    twice = move(client, complaint_id, "investigating")  # repeated: 200, nothing recorded
    assert [e["to_status"] for e in twice["history"]] == ["received", "investigating"]
    move(client, complaint_id, "answered", note="mounts replaced")
    stale = client.post(f"/api/v1/complaints/{complaint_id}/transitions",
                        json={"to_status": "followed_up", "satisfaction": 4, "expected_version": 2})
    assert stale.status_code == 409
    move(client, complaint_id, "followed_up", satisfaction=4, note="quiet now", expected_version=3)
    closed = move(client, complaint_id, "closed")
    assert (closed["answer"], closed["satisfaction"], closed["allowed"]) == ("mounts replaced", 4, [])
    assert [e["to_status"] for e in closed["history"]] == ["received", "investigating", "answered", "followed_up",
                                                           "closed"]
    assert ok(client.get(f"/api/v1/complaints/{complaint_id}")) == closed


def test_complaint_opens_a_work_order_and_links_another(client: TestClient, services: Services) -> None:
    complaint_id = register(client)["id"]
    opened = ok(client.post(f"/api/v1/complaints/{complaint_id}/work-orders", json={
        "title": "Check pump room noise", "asset_id": "north-pump-1", "priority": "urgent"}))
    (order_id,) = opened["work_order_ids"]
    order = services.db.work_orders.get(order_id)
    assert (order.source, order.source_ref, order.asset_id, order.requester) == (
        WorkOrderSource.COMPLAINT, f"complaint:{complaint_id}", "north-pump-1", "Ms Li, 12B")
    other, _ = services.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, "Lift noise", "north")
    linked = ok(client.post(f"/api/v1/complaints/{complaint_id}/work-orders", json={"work_order_id": other.id}))
    assert linked["work_order_ids"] == [order_id, other.id]
    assert [e["note"] for e in linked["history"][1:]] == [f"opened work order {order_id}",
                                                          f"linked work order {other.id}"]


@pytest.mark.parametrize(("body", "code"), [({}, 422), ({"work_order_id": 1, "title": "x"}, 422),
                                            ({"work_order_id": 999}, 404),
                                            ({"title": "x", "asset_id": "south-pump-1"}, 422)])
def test_work_order_request_must_link_or_open_one_of_the_site(client: TestClient, body: dict[str, Any],
                                                              code: int) -> None:
    complaint_id = register(client)["id"]
    assert client.post(f"/api/v1/complaints/{complaint_id}/work-orders", json=body).status_code == code


def test_unknown_complaint_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/complaints/42").status_code == 404


def planned_pump_order(services: Services) -> int:
    order, _ = services.book.open(WorkOrderKind.PREVENTIVE, WorkOrderPriority.PLANNED, "Pump overhaul", "north",
                                  "north-pump-1", source=WorkOrderSource.PLANNED, source_ref="plan:1")
    return order.id


def test_notice_drafted_from_a_planned_order_is_edited_then_published(client: TestClient,
                                                                      services: Services) -> None:
    draft = ok(client.post(f"/api/v1/workorders/{planned_pump_order(services)}/notice", json=WINDOW), 201)
    assert draft["title"] == "Water off: Tue 3 Mar 2026 01:00-04:00 (UTC)"
    assert (draft["status"], draft["allowed"]) == ("draft", ["published", "withdrawn"])
    edited = ok(client.patch(f"/api/v1/notices/{draft['id']}", json={"title": "Water off Tuesday night"}))
    assert (edited["title"], edited["body"]) == ("Water off Tuesday night", draft["body"])
    published = ok(client.post(f"/api/v1/notices/{draft['id']}/publish"))
    assert published["published_at"] == "2026-03-02T08:00:00Z"
    refused = client.patch(f"/api/v1/notices/{draft['id']}", json={"title": "changed"})
    assert refused.status_code == 409
    assert "only a draft can be edited" in refused.json()["detail"]
    assert ok(client.post(f"/api/v1/notices/{draft['id']}/withdraw"))["status"] == "withdrawn"
    assert client.post(f"/api/v1/notices/{draft['id']}/publish").status_code == 409


@pytest.mark.parametrize("window", [{"starts_at": "2026-03-03T04:00:00Z", "ends_at": "2026-03-03T01:00:00Z"},
                                   {"starts_at": "2026-03-03T01:00:00", "ends_at": "2026-03-03T04:00:00"}])
def test_notice_window_must_be_aware_and_in_order(client: TestClient, window: dict[str, str]) -> None:
    body = {"site_id": "north", "title": "Water off", "body": "Pump work.", **window}
    assert client.post("/api/v1/notices", json=body).status_code == 422


def test_notices_are_listed_by_site_status_and_time(client: TestClient) -> None:
    north = ok(client.post("/api/v1/notices", json={"site_id": "north", "title": "Water off", "body": "Pump.",
                                                    **WINDOW}), 201)
    south = ok(client.post("/api/v1/notices", json={"site_id": "south", "title": "Lights", "body": "Lamps.",
                                                    "starts_at": "2026-03-05T01:00:00Z",
                                                    "ends_at": "2026-03-05T02:00:00Z"}), 201)
    ok(client.post(f"/api/v1/notices/{south['id']}/publish"))

    def ids(**params: str) -> list[int]:
        return [n["id"] for n in ok(client.get("/api/v1/notices", params=params))["items"]]

    assert ids() == [north["id"], south["id"]]
    first = ok(client.get("/api/v1/notices", params={"limit": 1}))
    second = ok(client.get("/api/v1/notices", params={"limit": 1, "cursor": first["next_cursor"]}))
    assert (first["total"], [n["id"] for n in first["items"] + second["items"]], second["next_cursor"]) == (
        2, [north["id"], south["id"]], None)
    assert ids(site="south") == ids(status="published") == [south["id"]]
    assert ids(at="2026-03-03T02:00:00Z") == [north["id"]]


def publish(client: TestClient, site_id: str, title: str) -> None:
    notice = ok(client.post("/api/v1/notices", json={"site_id": site_id, "title": title, "body": "Work.",
                                                     **WINDOW}), 201)
    ok(client.post(f"/api/v1/notices/{notice['id']}/publish"))


def test_atom_feed_is_open_and_holds_only_the_published_notices_of_its_site(client: TestClient,
                                                                             anonymous: TestClient) -> None:
    publish(client, "north", "Water off")
    publish(client, "south", "Lights out")
    ok(client.post("/api/v1/notices", json={"site_id": "north", "title": "Secret draft", "body": "x", **WINDOW}),
       201)
    response = anonymous.get("/feeds/sites/north/notices.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")] == ["Water off"]
    link = root.find(f"{ATOM}link")
    assert link is not None
    assert link.attrib["href"] == "http://testserver/feeds/sites/north/notices.atom"
    assert b"desk-ann" not in response.content  # nothing private: not who wrote it


def test_ics_feed_is_open_and_parses(client: TestClient, anonymous: TestClient) -> None:
    publish(client, "north", "Water off")
    response = anonymous.get("/feeds/sites/north/notices.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert (str(event["summary"]), event.decoded("dtstart").isoformat()) == ("Water off", "2026-03-03T01:00:00+00:00")


def test_feed_of_an_unknown_site_is_404_and_the_notices_api_needs_the_token(anonymous: TestClient) -> None:
    assert anonymous.get("/feeds/sites/west/notices.atom").status_code == 404
    assert anonymous.get("/api/v1/notices").status_code == 401
    assert anonymous.get("/api/v1/complaints").status_code == 401
