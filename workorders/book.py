"""The work-order book: opens work orders from every source, moves them along the closed loop, tells the bus.

Each change is one unit of work in the database (``WorkOrderRepository.change``): a compare-and-set on
the order's status (and version, when the caller read one), the new fields and the event that records
who, when and why. The lifecycle (``workorders.lifecycle``) says which step is allowed, ``requirements``
what each step must carry; ``checks`` (dispatch qualification, ...) are given by the entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.domain import (
    AssetKind,
    PartUsed,
    WaitingFor,
    WorkOrder,
    WorkOrderAction,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderSource,
    WorkOrderStatus,
)
from core.errors import Conflict, InvalidRequest
from core.events import EventBus
from storage.records import Database
from storage.records.sessions import when_committed
from workorders.codes import check_failure_code
from workorders.lifecycle import allowed, check_transition
from workorders.slafile import default_policy

OPENED = "workorder.opened"
CHANGED = "workorder.changed"
_S = WorkOrderStatus

# The milestone each status stamps the first time an order enters it.
MILESTONE: dict[WorkOrderStatus, str] = {
    _S.DISPATCHED: "dispatched_at", _S.ACCEPTED: "accepted_at", _S.ON_SITE: "on_site_at",
    _S.COMPLETED: "completed_at", _S.VERIFIED: "verified_at", _S.FOLLOWED_UP: "followed_up_at",
}


@dataclass(frozen=True, slots=True)
class Step:
    """What a caller asks of one transition; which fields it needs depends on the target (``requirements``)."""

    to_status: WorkOrderStatus
    actor: str
    note: str = ""  # why: required to cancel or to send a completed order back
    expected_version: int | None = None  # the version the caller read: a stale read is a Conflict
    assignee: str | None = None  # dispatched
    waiting_for: WaitingFor | None = None  # waiting
    failure_code: str | None = None  # completed
    cause: str | None = None
    remedy: str | None = None
    parts: tuple[PartUsed, ...] = ()
    labour_hours: float | None = None
    restored_at: datetime | None = None  # completed: when service was restored (default: now)
    satisfaction: int | None = None  # followed_up, 1-5
    data: dict[str, Any] = field(default_factory=dict)


def requirements(step: Step, order: WorkOrder) -> list[str]:
    """What ``step`` lacks to be taken from ``order``'s status, in words (empty: nothing lacks)."""
    missing = []
    to = step.to_status
    if to is _S.DISPATCHED and not step.assignee:
        missing.append("a technician to dispatch to (assignee)")
    if to is _S.WAITING and step.waiting_for is None:
        missing.append("what it waits for (waiting_for: parts, shutdown or resident)")
    if to is _S.COMPLETED:
        missing += [f"the {name.replace('_', ' ')}" for name in ("failure_code", "cause", "remedy")
                    if not getattr(step, name)]
        if step.labour_hours is None:
            missing.append("the labour hours")
    if to is _S.FOLLOWED_UP and (step.satisfaction is None or not 1 <= step.satisfaction <= 5):
        missing.append("the satisfaction, 1 to 5")
    if (to is _S.CANCELLED or (order.status is _S.COMPLETED and to is _S.IN_PROGRESS)) and not step.note.strip():
        missing.append("a reason (note)")
    return missing


def step_fields(step: Step, order: WorkOrder, at: datetime) -> dict[str, Any]:
    """The columns ``step`` sets on ``order`` taken at ``at``."""
    fields: dict[str, Any] = {}
    milestone = MILESTONE.get(step.to_status)
    if milestone is not None and getattr(order, milestone) is None:
        fields[milestone] = at
    to = step.to_status
    if to is _S.DISPATCHED:
        fields["assignee"] = step.assignee
    if to is _S.ACCEPTED and order.assignee is None:
        fields["assignee"] = step.actor  # took a requested order directly
    if to is _S.REQUESTED:
        fields["assignee"] = None  # declined or withdrawn: to be dispatched again
    fields["waiting_for"] = step.waiting_for if to is _S.WAITING else None
    if to is _S.COMPLETED:
        fields.update(failure_code=step.failure_code, cause=step.cause, remedy=step.remedy, parts=step.parts,
                      labour_hours=step.labour_hours, completion_notes=step.note)
        if order.restored_at is None:
            fields["restored_at"] = step.restored_at or at
    if to is _S.FOLLOWED_UP:
        fields.update(satisfaction=step.satisfaction, follow_up_comment=step.note)
    return fields


Check = Callable[[WorkOrder, Step, datetime], None]  # raises InvalidRequest to refuse a step
# The first deadline of a new order from its kind, priority, site and opening time (``SlaPolicy.first_due``).
Deadline = Callable[[WorkOrderKind, WorkOrderPriority, str, datetime], datetime]


def _repeated(order: WorkOrder, step: Step) -> bool:
    """``step`` asks for what ``order`` already is: the same status, the same technician (dispatched to the
    assignee again; accepted again by the one who accepted). Another technician is a real, refused step."""
    if step.to_status is not order.status or step.assignee not in (None, order.assignee):
        return False
    return step.to_status is not _S.ACCEPTED or step.actor == order.assignee


def work_order_json(wo: WorkOrder) -> dict[str, Any]:
    """The work order as a JSON-safe dict: ISO-8601 times, enum values as strings, ``allowed`` next steps."""
    data: dict[str, Any] = {}
    for name in WorkOrder.__slots__:
        value = getattr(wo, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = [{"part": v.part, "quantity": v.quantity} if isinstance(v, PartUsed) else v for v in value]
        elif hasattr(value, "value"):
            value = value.value
        data[name] = value
    data["allowed"] = [status.value for status in allowed(wo.status)]
    return data


class WorkOrderBook:
    def __init__(self, db: Database, bus: EventBus, clock: Clock, checks: Sequence[Check] = (),
                 deadline: Deadline | None = None) -> None:
        self._db = db
        self._bus = bus
        self._clock = clock
        self._checks = list(checks)
        self._deadline = deadline or default_policy().first_due  # the packaged SLA policy unless given

    def add_check(self, check: Check) -> None:
        """Refuse steps that ``check`` refuses (e.g. dispatch to an unqualified technician)."""
        self._checks.append(check)

    def open(self, kind: WorkOrderKind, priority: WorkOrderPriority, title: str, site_id: str,
             asset_id: str | None = None, description: str = "", alarm_id: int | None = None,
             actor: str = "system", source: WorkOrderSource | None = None,
             **fields: Any) -> tuple[WorkOrder, bool]:
        """Open a work order (requested), due by its first SLA deadline (``deadline``); one per alarm
        (``(existing, False)``). ``fields``: source_ref, channel, requester, caller_phone, address,
        related_assets. ``source`` defaults to alarm with an ``alarm_id``, else desk."""
        if source is None:
            source = WorkOrderSource.DESK if alarm_id is None else WorkOrderSource.ALARM
        opened_at = self._clock.now()
        due_at = self._deadline(kind, priority, site_id, opened_at)
        wo, created = self._db.work_orders.create(kind, priority, title, site_id, asset_id, opened_at, due_at,
                                                  description, alarm_id, actor, source=source, **fields)
        if created:  # inside a unit of work (an alarm's effect): announced once it commits
            when_committed(lambda: self._bus.publish(OPENED, work_order_json(wo)))
        return wo, created

    def transition(self, work_order_id: int, step: Step) -> WorkOrder:
        """Take one step of the lifecycle (TransitionError naming the allowed ones; InvalidRequest for what
        the step lacks; Conflict if the order changed meanwhile; NotFound if unknown). A step to the status
        the order already has, for the same assignee, changes and records nothing (idempotent)."""
        current = self._db.work_orders.get(work_order_id)
        if _repeated(current, step):
            return current  # the same step again (a retried request, a double tap): nothing to record
        if step.expected_version is not None and current.version != step.expected_version:
            # The caller acted on an older read: say so, rather than judge the step from a state it never saw.
            raise Conflict(f"work order {work_order_id} changed meanwhile: it is at version {current.version} "
                           f"({current.status.value!r}), not {step.expected_version}")
        check_transition(current.status, step.to_status)
        missing = requirements(step, current)
        if missing:
            raise InvalidRequest(f"to go to {step.to_status.value!r} the work order needs " + ", ".join(missing))
        if step.to_status is _S.COMPLETED and step.failure_code is not None:
            kind = self._asset_kind(current)
            check_failure_code(kind, step.failure_code, kind_known=kind is not None or current.asset_id is None)
        now = self._clock.now()
        for check in self._checks:
            check(current, step, now)
        data = dict(step.data)
        if step.waiting_for is not None and step.to_status is _S.WAITING:
            data["waiting_for"] = step.waiting_for.value  # SLA clocks pause on some reasons only
        wo = self._db.work_orders.change(work_order_id, current.status, now, step.actor, to_status=step.to_status,
                                         expected_version=step.expected_version, note=step.note, data=data,
                                         **step_fields(step, current, now))
        self._bus.publish(CHANGED, work_order_json(wo))
        return wo

    def _asset_kind(self, order: WorkOrder) -> AssetKind | None:
        """The kind whose failure codes a completion of ``order`` takes (None: a site-level order, or an
        asset the records do not know)."""
        asset = None if order.asset_id is None else self._db.assets.find(order.asset_id)
        return None if asset is None else asset.kind

    def record(self, work_order_id: int, action: WorkOrderAction, actor: str, note: str = "",
               data: dict[str, Any] | None = None, **fields: Any) -> WorkOrder:
        """Record an event that is not a status change (comment, restore, attachment, escalation ...)."""
        current = self._db.work_orders.get(work_order_id)
        wo = self._db.work_orders.change(work_order_id, current.status, self._clock.now(), actor, action=action,
                                         note=note, data=data, **fields)
        self._bus.publish(CHANGED, work_order_json(wo))
        return wo

    def mark_restored(self, work_order_id: int, actor: str, note: str = "") -> WorkOrder:
        """Service is back (the passenger is out, water flows) before the repair is complete."""
        current = self._db.work_orders.get(work_order_id)
        if current.restored_at is not None:
            return current
        if current.status not in (_S.ON_SITE, _S.IN_PROGRESS, _S.WAITING):
            raise InvalidRequest(f"service can be marked restored only on site, in progress or waiting, "
                                 f"not {current.status.value!r}")
        return self.record(work_order_id, WorkOrderAction.RESTORE, actor, note, restored_at=self._clock.now())

    def comment(self, work_order_id: int, actor: str, note: str) -> WorkOrder:
        return self.record(work_order_id, WorkOrderAction.COMMENT, actor, note)
