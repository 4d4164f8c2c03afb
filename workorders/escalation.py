"""The SLA watch: looks at every open order's clocks, escalates targets at 80 % and at breach, and keeps
each order's ``due_at`` on its next pending deadline.

An escalation is recorded once per order, target and level (the database's unique key decides, so a
check that runs again or on two instances at once tells nobody twice). Recorded first, then written on
the order's history and published as "workorder.escalated" for the notifications to route.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.domain import WorkOrder, WorkOrderAction, WorkOrderStatus
from core.errors import Conflict
from core.events import EventBus
from storage.records import Database
from storage.records.work_orders import WorkOrderFilter
from workorders.book import WorkOrderBook
from workorders.sla import SlaPolicy, SlaState, TargetStatus

log = logging.getLogger(__name__)
ESCALATED = "workorder.escalated"
ACTOR = "sla"
PAGE = 500
_OPEN = tuple(status for status in WorkOrderStatus if status.is_open)
_LEVELS = {SlaState.AT_RISK: "at_risk", SlaState.BREACHED: "breached"}


class SlaWatch:
    def __init__(self, *, db: Database, book: WorkOrderBook, bus: EventBus, policy: SlaPolicy,
                 clock: Clock) -> None:
        self._db = db
        self._book = book
        self._bus = bus
        self._policy = policy
        self._clock = clock

    @property
    def policy(self) -> SlaPolicy:
        return self._policy

    def run_once(self) -> int:
        """``check`` at the clock's now (the runtime's periodic task)."""
        return self.check(self._clock.now())

    def check(self, now: datetime) -> int:
        """Check every open order at ``now``; the number of escalations recorded."""
        recorded = 0
        where = WorkOrderFilter(statuses=_OPEN)
        orders, after = self._db.work_orders.page(where, PAGE)
        while True:
            for order in orders:
                recorded += self.check_order(order, now)
            if after is None:
                return recorded
            orders, after = self._db.work_orders.page(where, PAGE, after)

    def check_order(self, order: WorkOrder, now: datetime) -> int:
        statuses = self._policy.status(order, self._db.work_orders.history(order.id), now)
        recorded = sum(self._escalate(order, status, now) for status in statuses
                       if status.met_at is None and status.state in _LEVELS)
        pending = [status.due_at for status in statuses if status.met_at is None
                   and status.state is not SlaState.STOPPED]
        if pending:
            self._db.sla.set_due_at(order.id, min(pending))
        return recorded

    def _escalate(self, order: WorkOrder, status: TargetStatus, now: datetime) -> bool:
        level = _LEVELS[status.state]
        supervisor = self._db.sla.supervisor_of(order.assignee)
        escalation = self._db.sla.record_escalation(order.id, status.target.value, level, now, status.due_at,
                                                    notified=supervisor or "")
        if escalation is None:
            return False  # told before
        data: dict[str, Any] = {"work_order_id": order.id, "site_id": order.site_id, "target": status.target.value,
                                "level": level, "due_at": status.due_at.isoformat(), "supervisor": supervisor,
                                "assignee": order.assignee, "priority": order.priority.value}
        note = f"SLA {status.target.value} {level.replace('_', ' ')}: due {status.due_at.isoformat()}"
        self._record(order.id, note, data)
        self._bus.publish(ESCALATED, data)
        return True

    def _record(self, work_order_id: int, note: str, data: dict[str, Any]) -> None:
        # The order may change between the book's read and its write (a technician steps it on): once more.
        for attempt in (1, 2):
            try:
                self._book.record(work_order_id, WorkOrderAction.ESCALATION, ACTOR, note, data)
                return
            except Conflict:
                if attempt == 2:
                    log.warning("escalation of work order %s not written on its history: it kept changing",
                                work_order_id)
