"""Residents: filing from the QR code's form, following through the capability link, rating once done, and a
signed-in resident's own list (signed in through personal tokens and a browser session)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from api.deps import Services
from api.routes.resident import FILING_RATE
from core.domain import WorkOrderStatus
from storage.records.models import WorkOrderRow
from workorders.book import Step
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import ComplaintStatus
from workorders.resident_desk import hash_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REQUEST = {"site_id": "north", "requester": "Ms Chen", "phone": "+86 139 1111 2222", "address": "2-1203",
           "description": "Bathroom light flickers\nsince Monday"}
FILING_LIMIT = int(FILING_RATE.split("/")[0])
COMPLAINT = {"site_id": "north", "category": "noise", "complainant": "2-1203", "description": "Pump hums at night"}


@pytest.fixture
def public(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # no credentials at all
        yield test_client




def token_of(follow_url: str) -> str:
    return follow_url.rsplit("/", 1)[1]


def test_a_request_filed_without_signing_in_gets_a_follow_link_that_shows_its_progress(
        public: TestClient, services: Services) -> None:
    answer = public.post("/api/v1/resident/requests", json=REQUEST)
    assert answer.status_code == 201, answer.text
    filed = answer.json()
    assert filed["follow_url"].startswith("http://testserver/follow/")
    token = token_of(filed["follow_url"])
    order = services.db.work_orders.get(filed["progress"]["id"])
    assert (order.title, order.requester, order.caller_phone) == ("Bathroom light flickers", "Ms Chen",
                                                                  "+86 139 1111 2222")
    with services.db.sessions() as session:
        row = session.get(WorkOrderRow, order.id)
        assert row is not None
        assert (row.follow_token_hash, row.reporter_id) == (hash_token(token), None)  # the hash, never the token

    progress = public.get(f"/api/v1/follow/{token}").json()
    assert progress["status"] == "requested"
    assert progress["milestones"][0]["step"] == "received"
    assert progress["milestones"][0]["at"] is not None
    assert progress["can_rate"] is False
    assert "Ms Chen" not in str(progress)
    assert "1111" not in str(progress)  # no names, no phone numbers behind a link


def test_the_follow_page_is_served_without_referrer_or_cache(public: TestClient) -> None:
    token = token_of(public.post("/api/v1/resident/requests", json=REQUEST).json()["follow_url"])
    page = public.get(f"/follow/{token}")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"


def test_an_unknown_or_malformed_follow_link_is_404_or_422(public: TestClient) -> None:
    assert public.get("/api/v1/follow/" + "A" * 43).status_code == 404
    assert public.get("/api/v1/follow/short").status_code == 422


def test_a_request_by_asset_implies_its_site_and_a_foreign_site_is_refused(public: TestClient,
                                                                          services: Services) -> None:
    body = {**REQUEST, "site_id": None, "asset_id": "south-pump-1"}
    filed = public.post("/api/v1/resident/requests", json=body).json()
    assert services.db.work_orders.get(filed["progress"]["id"]).site_id == "south"
    answer = public.post("/api/v1/resident/requests", json={**REQUEST, "asset_id": "south-pump-1"})
    assert answer.status_code == 422


def test_rating_waits_for_completion_then_counts_once(public: TestClient, services: Services) -> None:
    filed = public.post("/api/v1/resident/requests", json=REQUEST).json()
    token, order_id = token_of(filed["follow_url"]), filed["progress"]["id"]
    assert public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 5}).status_code == 409

    book = services.book
    book.transition(order_id, Step(WorkOrderStatus.DISPATCHED, "desk", assignee="wang"))
    for status in (WorkOrderStatus.ACCEPTED, WorkOrderStatus.ON_SITE):
        book.transition(order_id, Step(status, "wang"))
    book.transition(order_id, Step(WorkOrderStatus.COMPLETED, "wang", failure_code="other", cause="loose",
                                   remedy="tightened", labour_hours=0.5))
    progress = public.get(f"/api/v1/follow/{token}").json()
    assert progress["can_rate"] is True
    assert [m["at"] is not None for m in progress["milestones"]] == [True] * 5 + [False]

    rated = public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 4, "comment": "quick"})
    assert rated.status_code == 200, rated.text
    assert (rated.json()["satisfaction"], rated.json()["can_rate"]) == (4, False)
    assert services.db.work_orders.get(order_id).satisfaction == 4
    again = public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 4, "comment": "quick"})
    assert again.status_code == 200  # the same rating twice is a no-op
    assert public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 1}).status_code == 409
    assert public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 6}).status_code == 422


def test_a_verified_order_rated_by_its_resident_is_followed_up(public: TestClient, services: Services) -> None:
    filed = public.post("/api/v1/resident/requests", json=REQUEST).json()
    token, order_id = token_of(filed["follow_url"]), filed["progress"]["id"]
    book = services.book
    book.transition(order_id, Step(WorkOrderStatus.ACCEPTED, "wang"))
    book.transition(order_id, Step(WorkOrderStatus.ON_SITE, "wang"))
    book.transition(order_id, Step(WorkOrderStatus.COMPLETED, "wang", failure_code="other", cause="c",
                                   remedy="r", labour_hours=1))
    book.transition(order_id, Step(WorkOrderStatus.VERIFIED, "desk"))
    assert public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 5}).status_code == 200
    order = services.db.work_orders.get(order_id)
    assert (order.status, order.satisfaction) == (WorkOrderStatus.FOLLOWED_UP, 5)


@pytest.fixture
def desk(services: Services) -> ComplaintDesk:
    services.complaints = ComplaintDesk(services.db, services.book, services.bus, services.clock)
    return services.complaints


def test_a_complaint_is_followed_and_rated_once_answered(public: TestClient, desk: ComplaintDesk) -> None:
    filed = public.post("/api/v1/resident/complaints", json=COMPLAINT)
    assert filed.status_code == 201, filed.text
    token, complaint_id = token_of(filed.json()["follow_url"]), filed.json()["progress"]["id"]
    assert public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 3}).status_code == 409
    desk.transition(complaint_id, ComplaintStatus.INVESTIGATING, "desk")
    desk.transition(complaint_id, ComplaintStatus.ANSWERED, "desk", note="The pump gets new mounts on Friday.")
    progress = public.get(f"/api/v1/follow/{token}").json()
    assert (progress["answer"], progress["can_rate"]) == ("The pump gets new mounts on Friday.", True)
    assert public.post(f"/api/v1/follow/{token}/rating", json={"satisfaction": 3}).status_code == 200
    complaint = desk.get(complaint_id)
    assert (complaint.status, complaint.satisfaction) == (ComplaintStatus.FOLLOWED_UP, 3)


def test_a_signed_in_resident_files_as_themself_and_sees_only_their_own(
        client_as: Callable[..., TestClient], desk: ComplaintDesk) -> None:
    del desk  # served
    chen = client_as("resident", "res-chen")
    first = chen.post("/api/v1/resident/requests", json=REQUEST)
    assert first.status_code == 201, first.text
    chen.post("/api/v1/resident/complaints", json=COMPLAINT)
    chen.post("/api/v1/resident/requests", json={**REQUEST, "description": "Door closer broken"})
    li = client_as("resident", "res-li")
    li.post("/api/v1/resident/requests", json=REQUEST)
    assert li.get("/api/v1/me/filed").json()["total"] == 1
    order_id = first.json()["progress"]["id"]
    assert li.get(f"/api/v1/me/filed/request/{order_id}").status_code == 404  # not 403: nothing confirmed
    page = chen.get("/api/v1/me/filed", params={"limit": 2}).json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
    rest = chen.get("/api/v1/me/filed", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert rest["next_cursor"] is None
    seen = [(item["kind"], item["id"]) for item in page["items"] + rest["items"]]
    assert len(set(seen)) == 3
    assert ("complaint", 1) in seen
    assert chen.get(f"/api/v1/me/filed/request/{order_id}").json()["title"] == "Bathroom light flickers"


def test_a_browser_session_files_with_its_csrf_token(browser_as: Callable[..., TestClient],
                                                     services: Services) -> None:
    chen = browser_as("resident", "res-chen")
    filed = chen.post("/api/v1/resident/requests", json=REQUEST)
    assert filed.status_code == 201, filed.text
    with services.db.sessions() as session:
        row = session.get(WorkOrderRow, filed.json()["progress"]["id"])
        assert row is not None
        assert row.reporter_id == "res-chen"
    del chen.headers["X-CSRF-Token"]
    assert chen.post("/api/v1/resident/requests", json=REQUEST).status_code == 403  # a cookie write needs it


def test_staff_have_no_resident_list(client_as: Callable[..., TestClient]) -> None:
    assert client_as("operator").get("/api/v1/me/filed").status_code == 403


def test_a_signed_in_resident_rates_their_own_completed_request(client_as: Callable[..., TestClient],
                                                                services: Services) -> None:
    chen = client_as("resident", "res-chen")
    order_id = chen.post("/api/v1/resident/requests", json=REQUEST).json()["progress"]["id"]
    services.book.transition(order_id, Step(WorkOrderStatus.ACCEPTED, "wang"))
    services.book.transition(order_id, Step(WorkOrderStatus.ON_SITE, "wang"))
    services.book.transition(order_id, Step(WorkOrderStatus.COMPLETED, "wang", failure_code="other", cause="c",
                                            remedy="r", labour_hours=1))
    li = client_as("resident", "res-li")
    assert li.post(f"/api/v1/me/filed/request/{order_id}/rating", json={"satisfaction": 1}).status_code == 404
    rated = chen.post(f"/api/v1/me/filed/request/{order_id}/rating", json={"satisfaction": 5})
    assert rated.status_code == 200, rated.text
    assert services.db.work_orders.get(order_id).satisfaction == 5


def test_one_address_cannot_flood_the_open_form(public: TestClient) -> None:
    answers = [public.post("/api/v1/resident/requests", json=REQUEST) for _ in range(FILING_LIMIT + 1)]
    assert [answer.status_code for answer in answers[:FILING_LIMIT]] == [201] * FILING_LIMIT
    assert answers[-1].status_code == 429
    assert int(answers[-1].headers["retry-after"]) > 0
