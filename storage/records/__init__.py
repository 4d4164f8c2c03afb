"""The records database (sites, assets, alarms, work orders, forecasts, dead letters) and its repositories."""

from storage.records.alarms import AlarmRepository
from storage.records.assets import AssetRepository
from storage.records.database import Database
from storage.records.dead_letters import DeadLetterRepository
from storage.records.forecasts import ForecastRepository
from storage.records.work_orders import WorkOrderRepository

__all__ = [
    "AlarmRepository",
    "AssetRepository",
    "Database",
    "DeadLetterRepository",
    "ForecastRepository",
    "WorkOrderRepository",
]
