"""GET /api/v1/reports/monthly as JSON, CSV and HTML: the same figures as the report command."""

from __future__ import annotations

from datetime import UTC, datetime

from api.deps import Services
from core.domain import AssetKind, Reading
from tests.workorders.month_data import seed_march


def test_monthly_figures_as_json_use_reported_run_hours(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    seed_march(services.db)
    # p1's run_hours counter goes from 1000 to 1300 in March: 300 h, as in the hand-computed case
    services.store.write([Reading("s1", AssetKind.PUMP, "p1", datetime(2026, 3, d, tzinfo=UTC), {"run_hours": v})
                          for d, v in ((1, 1000.0), (15, 1150.0), (31, 1300.0))])
    response = client.get("/api/v1/reports/monthly", params={"site": "s1", "month": "2026-03"})
    assert response.status_code == 200
    body = response.json()
    assert body["month"] == "2026-03"
    rows = {row["kind"]: row["figures"] for row in body["rows"] if row["site_id"] == "s1"}
    assert rows["pump"]["mtbf_hours"] == 348.0  # (300 + 744) / 3
    assert rows["pump"]["first_time_fix_rate"] == 0.0
    assert rows["all"]["complaints"] == 2


def test_monthly_figures_as_csv_and_html(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    seed_march(services.db)
    csv_text = client.get("/api/v1/reports/monthly.csv", params={"site": "s1", "month": "2026-03"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.splitlines()[0].startswith("site_id,month,kind,assets,")
    assert len(csv_text.text.splitlines()) == 4  # header, elevator, pump, all
    page = client.get("/api/v1/reports/monthly.html", params={"site": "all", "month": "2026-03"})
    assert page.headers["content-type"].startswith("text/html")
    assert "Site s1" in page.text
    assert "Site s2" in page.text
    assert "<svg" in page.text


def test_an_unknown_site_is_404_and_a_bad_month_422(client, services: Services) -> None:  # type: ignore[no-untyped-def]
    seed_march(services.db)
    assert client.get("/api/v1/reports/monthly", params={"site": "nowhere", "month": "2026-03"}).status_code == 404
    assert client.get("/api/v1/reports/monthly", params={"site": "s1", "month": "2026-3"}).status_code == 422
    assert client.get("/api/v1/reports/monthly", params={"site": "s1", "month": "2026-13"}).status_code == 422
