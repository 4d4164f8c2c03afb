"""The work-order book: opens work orders, moves them through their lifecycle, and tells the event bus."""

from __future__ import annotations

from typing import Any

from core.clock import Clock
from core.domain import WorkOrder, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.events import EventBus
from storage.records import Database
from workorders.lifecycle import check_transition, due_at

OPENED = "workorder.opened"
CHANGED = "workorder.changed"


def work_order_json(wo: WorkOrder) -> dict[str, Any]:
    """The work order as a JSON-safe dict: ISO-8601 times, enum values as strings."""
    return {
        "id": wo.id,
        "kind": wo.kind.value,
        "priority": wo.priority.value,
        "status": wo.status.value,
        "title": wo.title,
        "asset_id": wo.asset_id,
        "site_id": wo.site_id,
        "opened_at": wo.opened_at.isoformat(),
        "due_at": wo.due_at.isoformat(),
        "description": wo.description,
        "assignee": wo.assignee,
        "alarm_id": wo.alarm_id,
        "closed_at": None if wo.closed_at is None else wo.closed_at.isoformat(),
        "cause": wo.cause,
        "remedy": wo.remedy,
    }


class WorkOrderBook:
    def __init__(self, db: Database, bus: EventBus, clock: Clock) -> None:
        self._db = db
        self._bus = bus
        self._clock = clock

    def open(self, kind: WorkOrderKind, priority: WorkOrderPriority, title: str, site_id: str,
             asset_id: str | None = None, description: str = "", alarm_id: int | None = None,
             actor: str = "system") -> tuple[WorkOrder, bool]:
        """Open a work order due by the priority's response time; one per alarm (``(existing, False)``)."""
        opened_at = self._clock.now()
        wo, created = self._db.work_orders.create(kind, priority, title, site_id, asset_id, opened_at,
                                                  due_at(priority, opened_at), description, alarm_id, actor)
        if created:
            self._bus.publish(OPENED, work_order_json(wo))
        return wo, created

    def transition(self, work_order_id: int, to_status: WorkOrderStatus, actor: str, note: str = "",
                   assignee: str | None = None, cause: str | None = None,
                   remedy: str | None = None) -> WorkOrder:
        """Move a work order along its lifecycle (TransitionError if not allowed; NotFound if unknown)."""
        current = self._db.work_orders.get(work_order_id)
        check_transition(current.status, to_status)
        wo = self._db.work_orders.update(work_order_id, to_status, self._clock.now(), actor, note,
                                         assignee, cause, remedy)
        self._bus.publish(CHANGED, work_order_json(wo))
        return wo
