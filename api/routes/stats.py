"""Service statistics: record counts and, when the runtime provides them, its live figures."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.identity import require
from api.schemas import StatsPublic
from people.access import Permission

router = APIRouter(prefix="/stats", tags=["stats"], dependencies=[require(Permission.READ)])


@router.get("", response_model=StatsPublic)
def get_stats(services: ServicesDep) -> StatsPublic:
    """How many assets, alarms, work orders, forecasts and dead letters there are, and runtime figures."""
    db = services.db
    counts = {
        "assets": len(db.assets.list()),
        "alarms": db.alarms.count(),
        "active_alarms": len(db.alarms.list(active_only=True, limit=10_000)),
        "work_orders": db.work_orders.count(),
        "open_work_orders": len(db.work_orders.list(open_only=True, limit=10_000)),
        "forecasts": db.forecasts.count(),
        "dead_letters": db.dead_letters.count(),
    }
    runtime = services.stats() if services.stats is not None else {}
    return StatsPublic(counts=counts, dead_letters_by_reason=db.dead_letters.counts(), runtime=runtime)
