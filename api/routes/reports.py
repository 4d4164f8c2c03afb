"""The monthly figures of the service standard: as JSON, as CSV and as a printable HTML page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

from api.deps import ServicesDep
from api.identity import require
from api.schemas.reports import FiguresPublic, MonthlyReportPublic
from people.access import Permission
from workorders.figures import monthly_figures, reported_run_hours
from workorders.kpi import Figures, Month
from workorders.report import to_csv, to_html

router = APIRouter(prefix="/reports", tags=["reports"], dependencies=[require(Permission.READ)])

SiteQuery = Annotated[str, Query(min_length=1, description='A site id, or "all" for every site.')]
MonthQuery = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, on each site's clock.")]


def _figures(services: ServicesDep, site: str, month: Month) -> list[Figures]:
    sites = None if site == "all" else [site]
    assets = [a.id for a in services.db.assets.list() if sites is None or a.site_id in sites]
    return monthly_figures(services.db.engine, month, sites, reported_run_hours(services.store, assets, month),
                           services.sla_policy, services.time_zone)  # None: the packaged policy


@router.get("/monthly", response_model=MonthlyReportPublic)
def monthly(services: ServicesDep, site: SiteQuery, month: MonthQuery) -> MonthlyReportPublic:
    """The month's figures per site and asset kind (and "all"): repair rate, MTTR, MTBF, SLA compliance per
    priority, PM compliance, first-time fix, repeat failures, backlog by age, complaints, satisfaction and
    follow-up coverage. 404 for an unknown site."""
    chosen = Month.parse(month)
    rows = [FiguresPublic.of(f) for f in _figures(services, site, chosen)]
    return MonthlyReportPublic(month=str(chosen), rows=rows)


@router.get("/monthly.csv", response_class=PlainTextResponse)
def monthly_csv(services: ServicesDep, site: SiteQuery, month: MonthQuery) -> PlainTextResponse:
    """The same figures as CSV: one row per site and kind."""
    chosen = Month.parse(month)
    return PlainTextResponse(to_csv(_figures(services, site, chosen)), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="figures-{site}-{chosen}.csv"'})


@router.get("/monthly.html", response_class=HTMLResponse)
def monthly_html(services: ServicesDep, site: SiteQuery, month: MonthQuery) -> HTMLResponse:
    """The same figures as a printable page with charts (inline SVG, nothing loaded from elsewhere)."""
    chosen = Month.parse(month)
    return HTMLResponse(to_html(_figures(services, site, chosen), str(chosen)))
