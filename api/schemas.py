"""Request and response bodies of the REST API (pydantic), built from the core domain types."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from core.domain import (
    Alarm,
    AlarmEvent,
    AlarmState,
    Asset,
    AssetKind,
    DeadLetter,
    Forecast,
    MetricValue,
    Reading,
    Severity,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)

_ACTOR = Field("operator", min_length=1, max_length=80, description="Who does this, for the record.")
_NOTE = Field("", max_length=2000)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LatestTelemetry(_Public):
    at: datetime = Field(description="Time of the newest metric.")
    metrics: dict[str, MetricValue] = Field(description="Newest value of each metric.")

    @classmethod
    def of(cls, reading: Reading) -> LatestTelemetry:
        return cls(at=reading.at, metrics=reading.metrics)


class AssetPublic(_Public):
    id: str
    site_id: str
    kind: AssetKind
    name: str
    installed_on: date | None
    report_interval_s: float
    attributes: dict[str, str | float | bool]

    @classmethod
    def of(cls, asset: Asset) -> AssetPublic:
        return cls.model_validate(asset)


class AssetDetail(AssetPublic):
    latest: LatestTelemetry | None = Field(description="The newest reported values; null before any report.")


class TelemetryPoint(BaseModel):
    at: datetime
    value: float


class TelemetrySeries(BaseModel):
    asset_id: str
    metric: str
    unit: str
    since: datetime
    until: datetime
    window: timedelta | None = Field(description="Bucket width; null for raw points.")
    agg: str
    points: list[TelemetryPoint]
    truncated: bool = Field(description="True when only the first points of a longer answer are given.")


class AlarmPublic(_Public):
    id: int
    rule_id: str
    asset_id: str
    site_id: str
    severity: Severity
    state: AlarmState
    message: str
    started_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    occurrences: int
    work_order_id: int | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def active(self) -> bool:
        """True while the condition holds (unacknowledged or acknowledged)."""
        return self.state.is_active

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmPublic:
        return cls.model_validate(alarm)


class AlarmEventPublic(_Public):
    at: datetime
    actor: str
    from_state: AlarmState | None
    to_state: AlarmState
    note: str


class AlarmDetail(AlarmPublic):
    history: list[AlarmEventPublic]

    @classmethod
    def with_history(cls, alarm: Alarm, history: list[AlarmEvent]) -> AlarmDetail:
        events = [AlarmEventPublic.model_validate(e) for e in history]
        return cls(history=events, **_fields(alarm, AlarmPublic))


class AlarmAcknowledge(BaseModel):
    actor: str = _ACTOR
    note: str = _NOTE


class AlarmComment(BaseModel):
    actor: str = _ACTOR
    note: str = Field(min_length=1, max_length=2000)


class WorkOrderPublic(_Public):
    id: int
    kind: WorkOrderKind
    priority: WorkOrderPriority
    status: WorkOrderStatus
    title: str
    asset_id: str | None
    site_id: str
    opened_at: datetime
    due_at: datetime = Field(description="Deadline for a technician's arrival (the priority's response time).")
    description: str
    assignee: str | None
    alarm_id: int | None
    closed_at: datetime | None
    cause: str | None
    remedy: str | None

    @classmethod
    def of(cls, work_order: WorkOrder) -> WorkOrderPublic:
        return cls.model_validate(work_order)


class WorkOrderEventPublic(_Public):
    at: datetime
    actor: str
    from_status: WorkOrderStatus | None
    to_status: WorkOrderStatus
    note: str


class WorkOrderDetail(WorkOrderPublic):
    history: list[WorkOrderEventPublic]

    @classmethod
    def with_history(cls, work_order: WorkOrder, history: list[WorkOrderEvent]) -> WorkOrderDetail:
        events = [WorkOrderEventPublic.model_validate(e) for e in history]
        return cls(history=events, **_fields(work_order, WorkOrderPublic))


class WorkOrderCreate(BaseModel):
    """A repair request or complaint, e.g. filed by a resident through the front desk."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    asset_id: str | None = Field(None, description="The machine concerned, if known.")
    site_id: str | None = Field(None, description="Required when no asset is given; else the asset's site.")
    kind: WorkOrderKind = WorkOrderKind.REQUEST
    priority: WorkOrderPriority = WorkOrderPriority.NORMAL
    actor: str = Field("front desk", min_length=1, max_length=80)


class WorkOrderTransition(BaseModel):
    to_status: WorkOrderStatus
    note: str = _NOTE
    assignee: str | None = Field(None, max_length=80, description="Technician, when assigning.")
    cause: str | None = Field(None, max_length=2000, description="What was wrong (when completing).")
    remedy: str | None = Field(None, max_length=2000, description="What was done (when completing).")
    actor: str = _ACTOR


class ForecastPublic(_Public):
    asset_id: str
    at: datetime
    health: float = Field(description="1 = as new, 0 = worn out.")
    rul_days: float | None = Field(description="Remaining useful life in days; null if no wear trend.")
    driver: str = Field(description="The wear indicator that sets the forecast.")
    model: str
    details: dict[str, float]

    @classmethod
    def of(cls, forecast: Forecast) -> ForecastPublic:
        return cls.model_validate(forecast)


class DeadLetterPublic(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload: str = Field(description="The rejected payload as text (invalid UTF-8 replaced), truncated.")

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterPublic:
        return cls(id=letter.id, received_at=letter.received_at, topic=letter.topic, reason=letter.reason,
                   detail=letter.detail, payload=letter.payload.decode("utf-8", errors="replace"))


class StatsPublic(BaseModel):
    counts: dict[str, int] = Field(description="Records in the database, by kind.")
    dead_letters_by_reason: dict[str, int]
    runtime: dict[str, Any] = Field(description="Figures from the running service (ingest rates ...).")


class Health(BaseModel):
    status: str
    version: str


def _fields(obj: object, model: type[BaseModel]) -> dict[str, Any]:
    """The attributes of a domain object that ``model`` declares, to extend it with more fields."""
    return {name: getattr(obj, name) for name in model.model_fields}
