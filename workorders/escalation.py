"""The SLA watch: looks at every open order's clocks, escalates targets at 80 % and at breach, and keeps
each order's ``due_at`` on its next pending deadline.

An escalation is recorded once per order, target and level (the database's unique key decides, so a
check that runs again or on two instances at once tells nobody twice). The escalation and its line on the
order's history are one transaction; then it is published as "workorder.escalated" for the notifications
to route.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.domain import WorkOrder, WorkOrderStatus
from core.events import EventBus
from storage.records import Database
from storage.records.work_orders import WorkOrderFilter
from workorders.book import CHANGED, work_order_json
from workorders.sla import SlaPolicy, SlaState, TargetStatus

log = logging.getLogger(__name__)
ESCALATED = "workorder.escalated"
ACTOR = "sla"
PAGE = 500
_OPEN = tuple(status for status in WorkOrderStatus if status.is_open)
_LEVELS = {SlaState.AT_RISK: "at_risk", SlaState.BREACHED: "breached"}


class SlaWatch:
    def __init__(self, *, db: Database, bus: EventBus, policy: SlaPolicy, clock: Clock) -> None:
        self._db = db
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
        data: dict[str, Any] = {"work_order_id": order.id, "site_id": order.site_id, "target": status.target.value,
                                "level": level, "due_at": status.due_at.isoformat(), "supervisor": supervisor,
                                "assignee": order.assignee, "priority": order.priority.value}
        note = f"SLA {status.target.value} {level.replace('_', ' ')}: due {status.due_at.isoformat()}"
        # The escalation and its line on the order's history are one transaction: never one without the other.
        escalation = self._db.sla.record_escalation(order.id, status.target.value, level, now, status.due_at,
                                                    notified=supervisor or "", actor=ACTOR, note=note, data=data)
        if escalation is None:
            return False  # told before
        self._bus.publish(CHANGED, work_order_json(self._db.work_orders.get(order.id)))
        self._bus.publish(ESCALATED, data)
        return True
