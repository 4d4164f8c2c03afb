"""Domain types: sites, assets, readings, alarms, work orders and forecasts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

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
    # IANA zone ("Asia/Shanghai") of the site's local time: rules' ``during`` windows and the reports follow
    # it, across daylight-saving changes. None: the configured default (``Settings.time_zone``).
    time_zone: str | None = None


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
    """Response class; each has service-level targets (``workorders.sla`` and its policy file)."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    NORMAL = "normal"
    PLANNED = "planned"


class WorkOrderSource(enum.StrEnum):
    """Where a job came from; ``WorkOrder.source_ref`` names the record it links back to."""

    ALARM = "alarm"  # an alarm episode (source_ref "alarm:<id>", and alarm_id)
    REQUEST = "request"  # a resident's repair request: online, mobile form, or a call logged by the desk
    COMPLAINT = "complaint"  # a complaint that needs work ("complaint:<id>")
    INSPECTION = "inspection"  # a failed inspection item ("inspection:<round id>:<item code>")
    PLANNED = "planned"  # planned maintenance ("plan:<id>", filled by the planner)
    DESK = "desk"  # opened by the service desk or a supervisor for any other reason


class RequestChannel(enum.StrEnum):
    """How a resident's request or complaint reached the desk."""

    WEB = "web"
    MOBILE = "mobile"
    PHONE = "phone"
    WALK_IN = "walk_in"
    API = "api"


class WorkOrderStatus(enum.StrEnum):
    """The closed loop of the service standard: 受理 → 派单 → 接单 → 到场 → 维修 → 完工 → 验收 → 回访 → 关闭."""

    REQUESTED = "requested"  # 受理: logged, nobody dispatched yet
    DISPATCHED = "dispatched"  # 派单: a technician is named
    ACCEPTED = "accepted"  # 接单: the technician took it
    ON_SITE = "on_site"  # 到场
    IN_PROGRESS = "in_progress"  # 维修
    WAITING = "waiting"  # for parts, a shutdown window or the resident (``WorkOrder.waiting_for``)
    COMPLETED = "completed"  # 完工: failure code, cause, remedy recorded
    VERIFIED = "verified"  # 验收: by the requester, or the supervisor for orders without one
    FOLLOWED_UP = "followed_up"  # 回访: satisfaction recorded
    CLOSED = "closed"  # 关闭
    CANCELLED = "cancelled"  # with a reason

    @property
    def is_terminal(self) -> bool:
        return self in (WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED)

    @property
    def is_open(self) -> bool:
        """Work still to do or to check: not yet completed, and not cancelled."""
        return self in _OPEN_WORK

    @property
    def occupies_asset(self) -> bool:
        """A technician is working on the asset (the alarms within the work's scope are out of service)."""
        return self in (WorkOrderStatus.ON_SITE, WorkOrderStatus.IN_PROGRESS)


_OPEN_WORK = frozenset({WorkOrderStatus.REQUESTED, WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED,
                        WorkOrderStatus.ON_SITE, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.WAITING})


class WaitingFor(enum.StrEnum):
    PARTS = "parts"
    SHUTDOWN = "shutdown"  # a shutdown window (water off, elevator out of service)
    RESIDENT = "resident"  # access to the flat, the resident's appointment


@dataclass(frozen=True, slots=True)
class PartUsed:
    part: str
    quantity: float = 1.0


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
    due_at: datetime  # the next SLA deadline still pending (on site, then restored/completed)
    description: str = ""
    assignee: str | None = None
    alarm_id: int | None = None
    closed_at: datetime | None = None
    cause: str | None = None
    remedy: str | None = None
    # -- where it came from ----------------------------------------------------------------------------
    source: WorkOrderSource = WorkOrderSource.DESK
    source_ref: str | None = None  # "alarm:12", "complaint:3", "inspection:7:door_gap", "plan:4"
    channel: RequestChannel | None = None
    requester: str | None = None  # the resident (or user id) who asked, and who verifies
    reporter_id: str | None = None  # the signed-in resident who filed it (their own request)
    caller_phone: str | None = None
    address: str | None = None  # flat or place, as the caller gave it
    related_assets: tuple[str, ...] = ()  # a site-level order: the assets involved
    recurrences: int = 0  # new episodes of the same fault attached to this open order
    version: int = 1  # optimistic locking: every change increments it
    # -- the work --------------------------------------------------------------------------------------
    waiting_for: WaitingFor | None = None
    failure_code: str | None = None
    parts: tuple[PartUsed, ...] = ()
    labour_hours: float | None = None
    completion_notes: str = ""
    satisfaction: int | None = None  # 1-5, from the follow-up
    follow_up_comment: str = ""
    # -- milestones (set by the transitions; the SLA clocks and the figures read them) -----------------
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    on_site_at: datetime | None = None
    restored_at: datetime | None = None  # service restored (defaults to completion)
    completed_at: datetime | None = None
    verified_at: datetime | None = None
    followed_up_at: datetime | None = None


class WorkOrderAction(enum.StrEnum):
    """What a work-order event records."""

    TRANSITION = "transition"
    ASSIGN = "assign"  # dispatch or reassignment without a status change
    COMMENT = "comment"
    RECURRENCE = "recurrence"  # the same fault again, attached instead of a second order
    RESTORE = "restore"  # service restored before completion
    ATTACHMENT = "attachment"
    ESCALATION = "escalation"  # an SLA target at 80 % or breached


@dataclass(frozen=True, slots=True)
class WorkOrderEvent:
    """One recorded step in a work order's history: who, when, why."""

    work_order_id: int
    at: datetime
    actor: str
    from_status: WorkOrderStatus | None
    to_status: WorkOrderStatus  # for an event that is not a transition: the status it happened in
    note: str = ""
    action: WorkOrderAction = WorkOrderAction.TRANSITION
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Driver:
    """One reason an asset's health is below 100: the feature, the health points it takes away, a sentence."""

    feature: str  # e.g. "vibration_mm_s.level"
    penalty: float  # health points taken away, 0-100
    text: str  # in words a planner reads: "vibration 6.2 mm/s, 81 % of the way from new to the ISO 10816 limit"


@dataclass(frozen=True, slots=True)
class Forecast:
    """An asset's health (100 = as new, 0 = worn out) and remaining useful life, as computed at ``at``.

    ``rul_days`` is the median (P50) remaining life; P10 and P90 bound the 80 % interval. The same quantiles
    in usage (``usage_unit``: run hours, door cycles, burn hours) let PM trigger on a meter. The failure
    probabilities are within 30 and 90 days of ``at``. ``driver`` is the top driver's feature (or the
    indicator that sets the forecast); ``drivers`` the ones that pull health down, worst first.
    """

    asset_id: str
    at: datetime
    health: float
    rul_days: float | None
    driver: str
    model: str
    details: dict[str, float] = field(default_factory=dict)
    rul_p10_days: float | None = None
    rul_p90_days: float | None = None
    usage_unit: str | None = None
    rul_p10_usage: float | None = None
    rul_p50_usage: float | None = None
    rul_p90_usage: float | None = None
    p_fail_30d: float | None = None
    p_fail_90d: float | None = None
    drivers: tuple[Driver, ...] = ()
    model_version: str = ""


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A trained model as stored: versioned per name, with its training window and validation metrics.

    ``blob`` is the model in a format that loads without executing code (skops, with an allow-list of
    types); never a pickle. ``active`` marks the version forecasts use.
    """

    name: str  # e.g. "rul-pump"
    version: int
    trained_at: datetime
    window_start: datetime
    window_end: datetime
    metrics: dict[str, float]
    format: str
    blob: bytes
    active: bool = True
    id: int | None = None


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
