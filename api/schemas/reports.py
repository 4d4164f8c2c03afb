"""Response bodies of the monthly report (``GET /api/v1/reports/monthly``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workorders.kpi import Figures
from workorders.report import figure_values


class FiguresPublic(BaseModel):
    site_id: str
    kind: str = Field(description='An asset kind, or "all": every kind and the site-level orders together.')
    figures: dict[str, int | float | None] = Field(
        description="Each figure by name (docs/workorders.md gives each formula); null where undefined, e.g. "
                    "a rate with nothing to divide.")

    @classmethod
    def of(cls, figures: Figures) -> FiguresPublic:
        return cls(site_id=figures.site_id, kind=figures.kind, figures=figure_values(figures))


class MonthlyReportPublic(BaseModel):
    month: str = Field(description="YYYY-MM, a calendar month in UTC.")
    rows: list[FiguresPublic]
