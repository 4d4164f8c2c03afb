"""Forecasts: each asset's health and remaining useful life, as the predictor last computed them."""

from __future__ import annotations

from fastapi import APIRouter

from api.cursors import decode_cursor, zoned_time
from api.deps import ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, Cursor, Limit, Page, keyset_page, whole
from api.schemas import ForecastPublic, ModelPublic
from people.access import Permission

router = APIRouter(prefix="/forecasts", tags=["forecasts"], dependencies=[require(Permission.READ)])


@router.get("", response_model=Page[ForecastPublic])
def latest_forecasts(services: ServicesDep, limit: Limit = DEFAULT_LIMIT,
                     cursor: Cursor = None) -> Page[ForecastPublic]:
    """The newest forecast of every asset that has one, by asset id."""
    after = decode_cursor(cursor, str)
    forecasts, last = services.db.forecasts.latest_page(limit, None if after is None else after[0])
    return keyset_page([ForecastPublic.of(forecast) for forecast in forecasts], services.db.forecasts.assets_forecast(),
                       None if last is None else (last, 0))


@router.get("/models", response_model=Page[ModelPublic])
def forecast_models(services: ServicesDep) -> Page[ModelPublic]:
    """Every stored version of the learned RUL models (without the model itself): training window, validation
    metrics and the interval coverage observed when it was trained, which shows drift. A small catalogue (a
    version per training), so one page holds it all: `next_cursor` is always null."""
    return whole([ModelPublic.model_validate(record) for record in services.db.models.list()])


@router.get("/{asset_id}", response_model=Page[ForecastPublic])
def asset_forecasts(services: ServicesDep, asset_id: str, limit: Limit = DEFAULT_LIMIT,
                    cursor: Cursor = None) -> Page[ForecastPublic]:
    """One asset's forecasts, newest first (then id): how its health and remaining life evolved."""
    services.db.assets.get(asset_id)  # 404 for an unknown asset rather than an empty list
    forecasts, after = services.db.forecasts.history_page(asset_id, limit, decode_cursor(cursor, zoned_time))
    return keyset_page([ForecastPublic.of(forecast) for forecast in forecasts],
                       services.db.forecasts.count_of(asset_id), after)
