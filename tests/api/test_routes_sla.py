"""SLA routes: a work order's target statuses and the escalations over a time window."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from api.deps import Services
from core.clock import ManualClock


def open_request(client: TestClient, **body: str) -> int:
    response = client.post("/api/v1/workorders", json={"title": "Dripping tap in 4B", "site_id": "north", **body})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_sla_of_a_normal_request_runs_on_business_hours(client: TestClient, clock: ManualClock) -> None:
    wo = open_request(client)  # Monday 16:00 in Shanghai
    clock.advance(timedelta(minutes=50))
    response = client.get(f"/api/v1/workorders/{wo}/sla")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["work_order_id"], body["clock"]) == (wo, "business")
    accept, complete = body["targets"]
    assert accept == {"target": "accept", "state": "at_risk", "due_at": "2026-03-02T09:00:00Z", "limit": "PT1H",
                      "elapsed": "PT50M", "fraction": 0.8333, "met_at": None}
    assert (complete["target"], complete["state"], complete["due_at"]) == ("complete", "running",
                                                                           "2026-03-04T08:00:00Z")  # Wednesday 16:00


def test_sla_of_an_emergency_runs_around_the_clock(client: TestClient) -> None:
    wo = open_request(client, priority="emergency", kind="emergency")
    body = client.get(f"/api/v1/workorders/{wo}/sla").json()
    assert body["clock"] == "around_the_clock"
    assert [(t["target"], t["due_at"]) for t in body["targets"]] == [("arrive", "2026-03-02T08:30:00Z"),
                                                                     ("restore", "2026-03-02T12:00:00Z")]


def test_sla_of_an_unknown_order_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/workorders/999/sla").status_code == 404


def test_escalations_are_listed_within_the_window(client: TestClient, services: Services,
                                                  clock: ManualClock) -> None:
    wo = open_request(client)
    now = clock.now()
    services.db.sla.record_escalation(wo, "accept", "at_risk", now - timedelta(days=1), now, "boss")
    services.db.sla.record_escalation(wo, "accept", "breached", now - timedelta(hours=1), now)
    recent = client.get("/api/v1/escalations",
                        params={"since": (now - timedelta(hours=2)).isoformat()}).json()["items"]
    assert [(e["work_order_id"], e["target"], e["level"], e["notified"]) for e in recent] == [
        (wo, "accept", "breached", "")]
    week = client.get("/api/v1/escalations").json()
    assert ([e["level"] for e in week["items"]], week["total"]) == (["at_risk", "breached"], 2)
    first = client.get("/api/v1/escalations", params={"limit": 1}).json()
    rest = client.get("/api/v1/escalations", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [e["level"] for e in first["items"] + rest["items"]] == ["at_risk", "breached"]
    assert rest["next_cursor"] is None


def test_escalation_window_must_be_aware_and_ordered(client: TestClient) -> None:
    naive = client.get("/api/v1/escalations", params={"since": "2026-03-01T00:00:00"})
    backwards = client.get("/api/v1/escalations", params={"since": "2026-03-03T00:00:00Z",
                                                          "until": "2026-03-02T00:00:00Z"})
    assert (naive.status_code, backwards.status_code) == (422, 422)
