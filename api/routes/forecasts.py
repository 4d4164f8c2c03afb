"""Forecasts: each asset's health and remaining useful life, as the predictor last computed them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.identity import require
from api.schemas import ForecastPublic, ModelPublic
from people.access import Permission

router = APIRouter(prefix="/forecasts", tags=["forecasts"], dependencies=[require(Permission.READ)])


@router.get("", response_model=list[ForecastPublic])
def latest_forecasts(services: ServicesDep) -> list[ForecastPublic]:
    """The newest forecast of every asset that has one."""
    return [ForecastPublic.of(forecast) for forecast in services.db.forecasts.latest()]


@router.get("/models", response_model=list[ModelPublic])
def forecast_models(services: ServicesDep) -> list[ModelPublic]:
    """Every stored version of the learned RUL models (without the model itself): training window, validation
    metrics and the interval coverage observed when it was trained, which shows drift."""
    return [ModelPublic.model_validate(record) for record in services.db.models.list()]


@router.get("/{asset_id}", response_model=list[ForecastPublic])
def asset_forecasts(services: ServicesDep, asset_id: str,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ForecastPublic]:
    """One asset's forecasts, newest first: how its health and remaining life evolved."""
    services.db.assets.get(asset_id)  # 404 for an unknown asset rather than an empty list
    return [ForecastPublic.of(forecast) for forecast in services.db.forecasts.history(asset_id, limit)]
