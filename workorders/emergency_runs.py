"""Working emergency plans: a run starts when an alarm opens an emergency order, steps are checked off,
late steps escalate, and the end of the run (or of its order) yields the after-action record.

Wiring (``facmon/runtime.py``): ``on_event`` follows ``workorder.`` events on the bus; ``escalate_late``
runs periodically. Everything that must happen once is guarded by the database (one run per order, one
escalation per step), so an event delivered twice or two checkers racing do no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core.clock import Clock
from core.domain import WorkOrder, WorkOrderAction, WorkOrderKind, WorkOrderStatus
from core.errors import InvalidRequest, NotFound
from core.events import Event, EventBus
from storage.records import Database
from storage.records.emergency import EmergencyRun, EmergencyStep
from workorders.after_action import AfterAction, after_action
from workorders.book import CHANGED, OPENED, WorkOrderBook
from workorders.emergency import Plan, Plans

log = logging.getLogger(__name__)
STARTED = "emergency.started"
STEP_DONE = "emergency.step_done"
STEP_LATE = "emergency.step_late"
ENDED = "emergency.ended"


def run_json(run: EmergencyRun) -> dict[str, object]:
    """What the bus carries about a run: ids, not the whole record (consoles fetch what they show)."""
    return {"run_id": run.id, "plan": run.plan, "site_id": run.site_id, "work_order_id": run.work_order_id,
            "drill": run.drill}


class EmergencyRunner:
    def __init__(self, plans: Plans, db: Database, book: WorkOrderBook, bus: EventBus, clock: Clock) -> None:
        self.plans = plans
        self._db = db
        self._book = book
        self._bus = bus
        self._clock = clock

    def on_event(self, event: Event) -> None:
        """Start the plan of a new emergency order; end the run when its order is closed or cancelled."""
        work_order_id = event.data.get("id")
        if not isinstance(work_order_id, int):
            return
        if event.topic == OPENED:
            self.start_for_order(self._db.work_orders.get(work_order_id))
        elif event.topic == CHANGED and WorkOrderStatus(event.data["status"]).is_terminal:
            run = self._db.emergency.for_work_order(work_order_id)
            if run is not None and run.ended_at is None:
                self._end(run, self._clock.now(), "system")

    def plan_for(self, order: WorkOrder) -> Plan | None:
        """The plan an emergency order opened by an alarm of a mapped rule carries (None: no plan)."""
        if order.kind is not WorkOrderKind.EMERGENCY or order.alarm_id is None:
            return None
        return self.plans.for_rule(self._db.alarms.get(order.alarm_id).rule_id)

    def start_for_order(self, order: WorkOrder) -> EmergencyRun | None:
        """Start the order's plan at the time the order opened; the run it has already, if any."""
        plan = self.plan_for(order)
        if plan is None:
            return None
        existing = self._db.emergency.for_work_order(order.id)
        if existing is not None:
            return existing
        run, created = self._db.emergency.start(plan.name, order.site_id, order.opened_at, "system",
                                                self._steps(plan, order.opened_at), work_order_id=order.id)
        if created:
            self._bus.publish(STARTED, run_json(run))
        return run

    def start_drill(self, site_id: str, plan_name: str, actor: str) -> EmergencyRun:
        """Run a plan for a site as a drill: the same steps and limits, without an alarm or an order."""
        plan = self.plans.plans.get(plan_name)
        if plan is None:
            raise InvalidRequest(f"no emergency plan {plan_name!r} (plans: {', '.join(sorted(self.plans.plans))})")
        if site_id not in {site.id for site in self._db.assets.sites()}:
            raise InvalidRequest(f"unknown site {site_id!r}")
        now = self._clock.now()
        run, _ = self._db.emergency.start(plan.name, site_id, now, actor, self._steps(plan, now), drill=True)
        self._bus.publish(STARTED, run_json(run))
        return run

    def check_off(self, run_id: int, position: int, actor: str, note: str = "") -> EmergencyRun:
        """Step ``position`` is done, by ``actor``, now (Conflict if done already or the run ended)."""
        run = self._db.emergency.check_off(run_id, position, self._clock.now(), actor, note)
        self._bus.publish(STEP_DONE, {**run_json(run), "position": position, "actor": actor})
        return run

    def escalate_late(self) -> int:
        """Escalate each step past its limit, once: the bus hears it and the order records it."""
        now = self._clock.now()
        escalated = 0
        for run, step in self._db.emergency.late(now):
            if not self._db.emergency.mark_escalated(run.id, step.position, now):
                continue  # another checker got there first
            escalated += 1
            self._bus.publish(STEP_LATE, {**run_json(run), "position": step.position, "title": step.title,
                                          "role": step.role, "due_at": step.due_at.isoformat()})
            if run.work_order_id is not None:
                self._record_on_order(run.work_order_id, step, now)
        return escalated

    def end(self, run_id: int, actor: str) -> EmergencyRun:
        """End a run (the emergency is over, or the drill); ending twice keeps the first end."""
        return self._end(self._db.emergency.get(run_id), self._clock.now(), actor)

    def after_action(self, run_id: int) -> AfterAction:
        """The after-action record: timeline, late steps, time to restore (as known now)."""
        run = self._db.emergency.get(run_id)
        if run.work_order_id is None:
            return after_action(run, self._clock.now())
        order = self._db.work_orders.get(run.work_order_id)
        alarm = None if order.alarm_id is None else self._db.alarms.get(order.alarm_id)
        return after_action(run, self._clock.now(), order, self._db.work_orders.history(order.id), alarm)

    def _end(self, run: EmergencyRun, at: datetime, actor: str) -> EmergencyRun:
        ended, first = self._db.emergency.end(run.id, at)
        if first:
            self._bus.publish(ENDED, {**run_json(ended), "actor": actor})
        return ended

    def _record_on_order(self, work_order_id: int, step: EmergencyStep, at: datetime) -> None:
        minutes = (at - step.due_at).total_seconds() / 60
        note = f"emergency plan step {step.position} late ({minutes:.0f} min): {step.title} ({step.role})"
        try:
            self._book.record(work_order_id, WorkOrderAction.ESCALATION, "system", note,
                              data={"emergency_step": step.position, "due_at": step.due_at.isoformat()})
        except NotFound:
            log.warning("emergency step late on unknown work order %s", work_order_id)

    @staticmethod
    def _steps(plan: Plan, started_at: datetime) -> list[tuple[str, str, datetime]]:
        return [(step.title, step.role.value, due) for step, due in zip(plan.steps, plan.due_times(started_at),
                                                                         strict=True)]
