"""GET /api/v1/sites: every site with the zone its local times are read in (its own or the default)."""

from __future__ import annotations

from api.deps import Services
from core.domain import Site
from tests.api.conftest import TestClient


def test_sites_list_their_zone_or_the_default_in_a_page(client: TestClient, services: Services) -> None:
    services.time_zone = "Asia/Shanghai"
    services.db.assets.upsert_site(Site("west", "West Gate", time_zone="Europe/Berlin"))
    body = client.get("/api/v1/sites").json()
    assert body["total"] == 3
    assert body["next_cursor"] is None
    zones = {item["id"]: (item["time_zone"], item["own_time_zone"]) for item in body["items"]}
    assert zones == {"north": ("Asia/Shanghai", False), "south": ("Asia/Shanghai", False),
                     "west": ("Europe/Berlin", True)}


def test_sites_page_by_cursor(client: TestClient) -> None:
    first = client.get("/api/v1/sites", params={"limit": 1}).json()
    assert [item["id"] for item in first["items"]] == ["north"]
    second = client.get("/api/v1/sites", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [item["id"] for item in second["items"]] == ["south"]
    assert second["next_cursor"] is None
    assert client.get("/api/v1/sites", params={"cursor": "not-a-cursor"}).status_code == 422
