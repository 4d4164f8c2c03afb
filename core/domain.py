"""Domain types: sites, assets, readings, alarms, work orders and forecasts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

MetricValue = float | bool


class AssetKind(enum.StrEnum):
    ELEVATOR = "elevator"
    PUMP = "pump"
    LIGHTING = "lighting"


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    address: str = ""


@dataclass(frozen=True, slots=True)
class Asset:
    id: str
    site_id: str
    kind: AssetKind
    name: str
    installed_on: date | None = None
    report_interval_s: float = 60.0
    # Kind-specific facts, e.g. a pump's rated power and mounting (for ISO 10816 zones).
    attributes: dict[str, str | float | bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reading:
    """One message's worth of metrics from one asset at one event time (UTC)."""

    site_id: str
    kind: AssetKind
    asset_id: str
    at: datetime
    metrics: dict[str, MetricValue]
    seq: int | None = None


class Severity(enum.StrEnum):
    """Alarm priority after ISA-18.2: how fast an operator must respond."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AlarmState(enum.StrEnum):
    """ISA-18.2 alarm states (shelving and suppression are flags on top of these)."""

    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RTN_UNACKNOWLEDGED = "rtn_unacknowledged"

    @property
    def is_active(self) -> bool:
        return self in (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm episode of a rule on an asset, keyed by (rule, asset, started_at)."""

    id: int
    rule_id: str
    asset_id: str
    site_id: str
    severity: Severity
    state: AlarmState
    message: str
    started_at: datetime
    cleared_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    occurrences: int = 1
    work_order_id: int | None = None
    # Flags on top of the state (ISA-18.2 shelving, suppression by design, out of service):
    shelved_until: datetime | None = None
    shelve_reason: str = ""
    suppressed_by: int | None = None  # the id of the active alarm that explains this one (e.g. a power cut)
    out_of_service: str = ""  # why the asset is out of service ("" = in service): work order, maintenance
    chattering: bool = False
    assignee: str | None = None


class WorkOrderKind(enum.StrEnum):
    EMERGENCY = "emergency"
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"
    INSPECTION = "inspection"
    REQUEST = "request"


class WorkOrderPriority(enum.StrEnum):
    """Response class; each has a service-level response time (see ``RESPONSE_TIME``)."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    NORMAL = "normal"
    PLANNED = "planned"


# Time allowed from opening a work order to a technician's arrival, per priority.
RESPONSE_TIME: dict[WorkOrderPriority, timedelta] = {
    WorkOrderPriority.EMERGENCY: timedelta(minutes=30),
    WorkOrderPriority.URGENT: timedelta(hours=4),
    WorkOrderPriority.NORMAL: timedelta(days=2),
    WorkOrderPriority.PLANNED: timedelta(days=14),
}


class WorkOrderStatus(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class WorkOrder:
    id: int
    kind: WorkOrderKind
    priority: WorkOrderPriority
    status: WorkOrderStatus
    title: str
    asset_id: str | None
    site_id: str
    opened_at: datetime
    due_at: datetime
    description: str = ""
    assignee: str | None = None
    alarm_id: int | None = None
    closed_at: datetime | None = None
    cause: str | None = None
    remedy: str | None = None


@dataclass(frozen=True, slots=True)
class WorkOrderEvent:
    """One recorded step in a work order's history."""

    work_order_id: int
    at: datetime
    actor: str
    from_status: WorkOrderStatus | None
    to_status: WorkOrderStatus
    note: str = ""


@dataclass(frozen=True, slots=True)
class Forecast:
    """An asset's health (1 = as new, 0 = worn out) and remaining useful life, as computed at ``at``."""

    asset_id: str
    at: datetime
    health: float
    rul_days: float | None
    driver: str  # the wear indicator that sets the forecast, e.g. "vibration_mm_s"
    model: str
    details: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One recorded change of an alarm: state changes, acknowledgements, comments; who and when."""

    alarm_id: int
    at: datetime
    actor: str
    from_state: AlarmState | None
    to_state: AlarmState
    note: str = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected device message, kept with its reason so that it can be inspected and reprocessed."""

    id: int  # 0 until stored
    received_at: datetime
    topic: str
    reason: str
    detail: str
    payload: bytes  # truncated to DEAD_LETTER_PAYLOAD_BYTES


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A planned time in which an asset (or every asset of a site, ``asset_id`` None) is out of service."""

    id: int  # 0 until stored
    site_id: str
    asset_id: str | None
    since: datetime
    until: datetime
    reason: str
    created_by: str = "operator"

    def covers(self, site_id: str, asset_id: str, at: datetime) -> bool:
        return (self.site_id == site_id and self.asset_id in (None, asset_id)
                and self.since <= at < self.until)


DEAD_LETTER_PAYLOAD_BYTES = 4096
