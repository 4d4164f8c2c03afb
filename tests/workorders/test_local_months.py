"""The monthly figures count each site's own calendar month: a site in Asia/Shanghai's March starts at
16:00 UTC on 28 February; a site without a zone takes the configured default; DST months are an hour short."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.domain import Site, WorkOrderKind
from storage.records import Database
from tests.records import BACKENDS, fresh_database
from tests.workorders.month_data import ASSETS, Desk
from workorders.figures import monthly_figures
from workorders.kpi import Month


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    yield database
    database.dispose()


def test_a_month_on_a_sites_clock_has_its_local_bounds() -> None:
    march = Month(2026, 3)
    assert march.in_zone("Asia/Shanghai").start == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert march.in_zone("Asia/Shanghai").end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert march.in_zone("Europe/Berlin").hours == 31 * 24 - 1  # the clocks go forward on 29 March
    assert march.hours == 31 * 24
    assert str(march.in_zone("Asia/Shanghai")) == "2026-03"


def test_orders_count_in_the_month_of_the_sites_clock(db: Database) -> None:
    db.assets.upsert_site(Site("s1", "Shanghai tower", time_zone="Asia/Shanghai"))
    db.assets.upsert_site(Site("s2", "Plain court"))
    for asset in ASSETS:
        db.assets.upsert_asset(asset)
    desk = Desk(db)
    # 18:00 UTC on 28 February is 02:00 on 1 March in Shanghai; 20:00 UTC on 31 March is 1 April there.
    for site, asset in (("s1", "p1"), ("s2", "q1")):
        desk.open(datetime(2026, 2, 28, 18, tzinfo=UTC), WorkOrderKind.CORRECTIVE, asset, site)
        desk.open(datetime(2026, 3, 31, 20, tzinfo=UTC), WorkOrderKind.CORRECTIVE, asset, site)
    opened = {f.site_id: f.orders_opened for f in monthly_figures(db.engine, Month(2026, 3)) if f.kind == "all"}
    assert opened == {"s1": 1, "s2": 1}  # s1: the February one (local March); s2 (UTC): the 31 March one
    april = {f.site_id: f.orders_opened for f in monthly_figures(db.engine, Month(2026, 4)) if f.kind == "all"}
    assert april == {"s1": 1, "s2": 0}
    # A site without a zone keeps the configured default: in Shanghai time s2's 31 March order is April's.
    shanghai = monthly_figures(db.engine, Month(2026, 4), ["s2"], default_zone="Asia/Shanghai")
    assert [f.orders_opened for f in shanghai if f.kind == "all"] == [1]
