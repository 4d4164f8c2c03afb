"""Request and response bodies of the REST API (pydantic), built from the core domain types."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from api.params import ShelveSeconds, ZonedTime, ordered
from api.schemas.workorders import (
    AttachmentPublic,
    FailureCodePublic,
    PartPublic,
    RepairRequestCreate,
    WorkOrderComment,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderEventPublic,
    WorkOrderPage,
    WorkOrderPublic,
    WorkOrderRestore,
    WorkOrderTransition,
)
from core.domain import (
    Alarm,
    AlarmEvent,
    AlarmState,
    Asset,
    AssetKind,
    DeadLetter,
    Forecast,
    MaintenanceWindow,
    MetricValue,
    Reading,
    Severity,
)
from predictor.forecast_notes import life_note

__all__ = [  # the service desk's bodies live in api.schemas.workorders, re-exported here
    "AttachmentPublic", "FailureCodePublic", "PartPublic", "RepairRequestCreate", "WorkOrderComment",
    "WorkOrderCreate", "WorkOrderDetail", "WorkOrderEventPublic", "WorkOrderPage", "WorkOrderPublic",
    "WorkOrderRestore", "WorkOrderTransition",
]

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
    shelved_until: datetime | None = Field(None, description="Shelved by an operator until then.")
    shelve_reason: str = ""
    suppressed_by: int | None = Field(None, description="The active alarm that explains this one (a power cut).")
    out_of_service: str = Field("", description="Why the asset is out of service; empty when in service.")
    chattering: bool = Field(False, description="Toggled 3 or more times within a minute.")
    assignee: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def active(self) -> bool:
        """True while the condition holds (unacknowledged or acknowledged)."""
        return self.state.is_active

    @computed_field  # type: ignore[prop-decorator]
    @property
    def muted(self) -> bool:
        """Shelved, suppressed or out of service: recorded, but not among the live alarms to act on."""
        return self.shelved_until is not None or self.suppressed_by is not None or bool(self.out_of_service)

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
    suppressed: list[AlarmPublic] = Field([], description="The open alarms this one suppresses (listed under it).")

    @classmethod
    def with_history(cls, alarm: Alarm, history: list[AlarmEvent],
                     suppressed: list[Alarm] | None = None) -> AlarmDetail:
        events = [AlarmEventPublic.model_validate(e) for e in history]
        under = [AlarmPublic.of(a) for a in suppressed or []]
        return cls(history=events, suppressed=under, **_fields(alarm, AlarmPublic))


class AlarmAcknowledge(BaseModel):
    note: str = _NOTE


class AlarmComment(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class AlarmShelve(BaseModel):
    until: ZonedTime | None = Field(None, description="When the shelf ends (timezone-aware); at most 7 days "
                                                      "ahead. Give this or `for_s`.")
    for_s: ShelveSeconds | None = Field(None, description="Or: shelve for this many seconds of service time "
                                                          "(at most 7 days).")
    reason: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _one_end(self) -> AlarmShelve:
        if (self.until is None) == (self.for_s is None):
            raise ValueError("give exactly one of until and for_s")
        return self

    def end(self, now: datetime) -> datetime:
        return self.until if self.until is not None else now + timedelta(seconds=self.for_s or 0)


class AlarmUnshelve(BaseModel):
    note: str = _NOTE


class AlarmAssign(BaseModel):
    assignee: str | None = Field(description="Who takes care of the alarm; null to unassign.", max_length=200)


class MaintenanceWindowCreate(BaseModel):
    site_id: str = Field(min_length=1, max_length=64)
    asset_id: str | None = Field(None, max_length=64, description="Null: every asset of the site.")
    since: ZonedTime
    until: ZonedTime
    reason: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceWindowCreate:
        ordered(self.since, self.until)
        return self


class MaintenanceWindowPublic(_Public):
    id: int
    site_id: str
    asset_id: str | None
    since: datetime
    until: datetime
    reason: str
    created_by: str

    @classmethod
    def of(cls, window: MaintenanceWindow) -> MaintenanceWindowPublic:
        return cls.model_validate(window)


class AlarmKpis(BaseModel):
    """ISA-18.2 performance figures over [since, until)."""

    since: datetime
    until: datetime
    alarms: int
    intervals: int
    per_10min_avg: float
    per_10min_max: int
    flood_minutes: float
    flood_share: float
    top10_share: float
    top10: list[dict[str, str | int]]
    priority_mix: dict[str, float]
    chattering: int
    rating: str


class RulesReloaded(BaseModel):
    kept: int
    changed: int
    added: int
    removed: int


class DriverPublic(_Public):
    feature: str = Field(description="The daily feature, e.g. vibration_mm_s.mean.")
    penalty: float = Field(description="Health points it takes away (0-100).")
    text: str = Field(description="The reason in words a planner reads.")


class ForecastPublic(_Public):
    asset_id: str
    at: datetime
    health: float = Field(description="0-100: 100 = as new, 0 = worn out (0-1 before schema 0006).")
    rul_days: float | None = Field(description="Remaining useful life in days, the median (P50).")
    rul_p10_days: float | None = Field(None, description="P10 of remaining life in days.")
    rul_p90_days: float | None = Field(None, description="P90 of remaining life in days.")
    usage_unit: str | None = Field(None, description="Unit of the usage quantiles: h, cycles.")
    rul_p10_usage: float | None = None
    rul_p50_usage: float | None = None
    rul_p90_usage: float | None = None
    p_fail_30d: float | None = Field(None, description="Probability of failure within 30 days.")
    p_fail_90d: float | None = Field(None, description="Probability of failure within 90 days.")
    driver: str = Field(description="The top driver's feature (what pulls health down most).")
    drivers: list[DriverPublic] = Field(default_factory=list, description="Health drivers, worst first.")
    model: str = Field(description="rul-<kind> (learned) or prior-<kind>.")
    model_version: str = ""
    details: dict[str, float]
    life_note: str = Field("", description="Why health and remaining life disagree (condition now against the "
                                           "model's age and use), in one sentence; empty when they agree.")

    @classmethod
    def of(cls, forecast: Forecast) -> ForecastPublic:
        return cls.model_validate(forecast).model_copy(update={"life_note": life_note(forecast)})


class ModelPublic(_Public):
    name: str = Field(description="rul-<kind>.")
    version: int
    trained_at: datetime
    window_start: datetime = Field(description="Start of the history it was trained on.")
    window_end: datetime
    metrics: dict[str, float] = Field(description="Validation metrics, and observed_coverage_p10_p90: the share "
                                                  "of resolved stored forecasts whose P10-P90 held the real life.")
    format: str
    active: bool


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


class DependencyPublic(BaseModel):
    up: bool = Field(description="Whether it answered the last health check (every few seconds).")
    since: datetime = Field(description="Since when it is up, or down.")
    detail: str = Field("", description="Why it is down.")


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="`degraded` while a dependency is down: the service runs, spools and retries.")
    version: str
    down: list[str] = Field(default_factory=list,
                            description="Dependencies that do not answer: broker, telemetry_store, records_database.")
    dependencies: dict[str, DependencyPublic] = Field(default_factory=dict)


def _fields(obj: object, model: type[BaseModel]) -> dict[str, Any]:
    """The attributes of a domain object that ``model`` declares, to extend it with more fields."""
    return {name: getattr(obj, name) for name in model.model_fields}
