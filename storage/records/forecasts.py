"""Health and remaining-life forecasts per asset."""

from __future__ import annotations

import builtins

from sqlalchemy import func, select

from core.domain import Forecast
from storage.records.models import ForecastRow
from storage.records.sessions import Repository


def _forecast(row: ForecastRow) -> Forecast:
    return Forecast(row.asset_id, row.at, row.health, row.rul_days, row.driver, row.model,
                    {key: float(value) for key, value in row.details.items()})


class ForecastRepository(Repository):
    def add(self, forecast: Forecast) -> None:
        with self._transaction() as session:
            session.add(ForecastRow(asset_id=forecast.asset_id, at=forecast.at, health=forecast.health,
                                    rul_days=forecast.rul_days, driver=forecast.driver, model=forecast.model,
                                    details=dict(forecast.details)))

    def latest(self, asset_id: str | None = None) -> builtins.list[Forecast]:
        """The newest forecast of each asset (or of ``asset_id`` only), ordered by asset id."""
        newest = (select(ForecastRow.id, func.row_number().over(
            partition_by=ForecastRow.asset_id, order_by=(ForecastRow.at.desc(), ForecastRow.id.desc()),
        ).label("rank")))
        if asset_id is not None:
            newest = newest.where(ForecastRow.asset_id == asset_id)
        ranked = newest.subquery()
        query = (select(ForecastRow).join(ranked, ranked.c.id == ForecastRow.id)
                 .where(ranked.c.rank == 1).order_by(ForecastRow.asset_id))
        with self._transaction() as session:
            return [_forecast(row) for row in session.scalars(query)]

    def history(self, asset_id: str, limit: int = 100) -> builtins.list[Forecast]:
        """The asset's forecasts, newest first."""
        query = (select(ForecastRow).where(ForecastRow.asset_id == asset_id)
                 .order_by(ForecastRow.at.desc(), ForecastRow.id.desc()).limit(limit))
        with self._transaction() as session:
            return [_forecast(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(ForecastRow)) or 0
