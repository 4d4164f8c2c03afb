"""A site's time zone is stored and read back (NULL: the configured default), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from core.domain import Site


def test_a_sites_zone_round_trips_and_none_stays_none(db: Any) -> None:
    db.assets.upsert_site(Site("sh", "Shanghai Centre", "Lujiazui", "Asia/Shanghai"))
    db.assets.upsert_site(Site("plain", "Plain"))
    assert {site.id: site.time_zone for site in db.assets.sites()} == {"sh": "Asia/Shanghai", "plain": None}
    db.assets.upsert_site(Site("sh", "Shanghai Centre", "Lujiazui", "Europe/Berlin"))  # the zone changes
    assert next(site for site in db.assets.sites() if site.id == "sh").time_zone == "Europe/Berlin"
