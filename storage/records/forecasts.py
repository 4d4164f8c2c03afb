"""Health and remaining-life forecasts per asset: quantiles in days and usage, failure odds, drivers in words."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from core.domain import Driver, Forecast
from storage.records.models import ForecastRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository


def _forecast(row: ForecastRow) -> Forecast:
    return Forecast(row.asset_id, row.at, row.health, row.rul_days, row.driver, row.model,
                    {key: float(value) for key, value in row.details.items()},
                    rul_p10_days=row.rul_p10_days, rul_p90_days=row.rul_p90_days, usage_unit=row.usage_unit,
                    rul_p10_usage=row.rul_p10_usage, rul_p50_usage=row.rul_p50_usage,
                    rul_p90_usage=row.rul_p90_usage, p_fail_30d=row.p_fail_30d, p_fail_90d=row.p_fail_90d,
                    drivers=tuple(_driver(item) for item in row.drivers or ()), model_version=row.model_version)


def _driver(item: dict[str, Any]) -> Driver:
    return Driver(str(item["feature"]), float(item["penalty"]), str(item["text"]))


def _row(forecast: Forecast) -> ForecastRow:
    return ForecastRow(
        asset_id=forecast.asset_id, at=forecast.at, health=forecast.health, rul_days=forecast.rul_days,
        driver=forecast.driver, model=forecast.model, details=dict(forecast.details),
        rul_p10_days=forecast.rul_p10_days, rul_p90_days=forecast.rul_p90_days, usage_unit=forecast.usage_unit,
        rul_p10_usage=forecast.rul_p10_usage, rul_p50_usage=forecast.rul_p50_usage,
        rul_p90_usage=forecast.rul_p90_usage, p_fail_30d=forecast.p_fail_30d, p_fail_90d=forecast.p_fail_90d,
        drivers=[{"feature": d.feature, "penalty": d.penalty, "text": d.text} for d in forecast.drivers],
        model_version=forecast.model_version)


class ForecastRepository(Repository):
    def add(self, forecast: Forecast) -> None:
        with self._transaction() as session:
            session.add(_row(forecast))

    def latest(self, asset_id: str | None = None) -> builtins.list[Forecast]:
        """The newest forecast of each asset (or of ``asset_id`` only), ordered by asset id."""
        newest = _ranked()
        if asset_id is not None:
            newest = newest.where(ForecastRow.asset_id == asset_id)
        with self._transaction() as session:
            return [_forecast(row) for row in session.scalars(_newest_of_each(newest))]

    def latest_page(self, limit: int = 50, after: str | None = None) -> tuple[builtins.list[Forecast], str | None]:
        """As ``latest``, ``limit`` assets at most after the asset ``after``; the asset to resume after (None on
        the last page)."""
        newest = _ranked()
        if after is not None:
            newest = newest.where(ForecastRow.asset_id > after)
        with self._reading() as session:
            found = [_forecast(row) for row in session.scalars(_newest_of_each(newest).limit(limit + 1))]
        return found[:limit], found[limit - 1].asset_id if len(found) > limit else None

    def assets_forecast(self) -> int:
        """How many assets have a forecast (the total of ``latest``)."""
        with self._reading() as session:
            return session.scalar(select(func.count(func.distinct(ForecastRow.asset_id)))) or 0

    def history(self, asset_id: str, limit: int = 100) -> builtins.list[Forecast]:
        """The asset's forecasts, newest first."""
        return self.history_page(asset_id, limit)[0]

    def history_page(self, asset_id: str, limit: int = 50, after: tuple[datetime, int] | None = None,
                     ) -> tuple[builtins.list[Forecast], tuple[datetime, int] | None]:
        """The asset's forecasts, newest first (at, then id), ``limit`` at most after the cursor ``after``; the
        cursor of the next page (None on the last)."""
        query = keyset(select(ForecastRow).where(ForecastRow.asset_id == asset_id), ForecastRow.at, ForecastRow.id,
                       limit, after, newest_first=True)
        with self._reading() as session:
            page, last = split(list(session.scalars(query)), limit, lambda row: (row.at, row.id))
            return [_forecast(row) for row in page], last

    def count_of(self, asset_id: str) -> int:
        with self._reading() as session:
            query = select(func.count()).select_from(ForecastRow).where(ForecastRow.asset_id == asset_id)
            return session.scalar(query) or 0

    def with_intervals(self, since: datetime, until: datetime) -> builtins.list[Forecast]:
        """The first forecast of each asset and UTC day made in ``[since, until)`` that carries a P10-P90
        interval, in time order: what the observed coverage is computed over (one a day, not every hourly
        forecast, so two years of a fleet stay a few rows per asset and day)."""
        with self._transaction() as session:
            at = ForecastRow.at
            # The UTC day: SQLite stores naive UTC; PostgreSQL's date() would use the session's time zone.
            utc = at if session.get_bind().dialect.name == "sqlite" else func.timezone("UTC", at)
            ranked = (select(ForecastRow.id, func.row_number().over(
                partition_by=(ForecastRow.asset_id, func.date(utc)), order_by=(at, ForecastRow.id)).label("rank"))
                .where(at >= since, at < until, ForecastRow.rul_p10_days.is_not(None),
                       ForecastRow.rul_p90_days.is_not(None))
                .subquery())
            query = (select(ForecastRow).join(ranked, ranked.c.id == ForecastRow.id)
                     .where(ranked.c.rank == 1).order_by(ForecastRow.at, ForecastRow.id))
            return [_forecast(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(ForecastRow)) or 0


def _ranked() -> Select[Any]:
    """Each forecast's id and its rank among its asset's, the newest 1."""
    return select(ForecastRow.id, func.row_number().over(
        partition_by=ForecastRow.asset_id, order_by=(ForecastRow.at.desc(), ForecastRow.id.desc())).label("rank"))


def _newest_of_each(newest: Select[Any]) -> Select[Any]:
    """The rows ranked first by ``newest`` (id, rank per asset), by asset id."""
    ranked = newest.subquery()
    return (select(ForecastRow).join(ranked, ranked.c.id == ForecastRow.id)
            .where(ranked.c.rank == 1).order_by(ForecastRow.asset_id))
