"""The work order an alarm calls for: opened, attached to the open order of an earlier episode of the same
fault (a recurrence), or opened late when the alarm's mute ends. Runs inside the caller's unit of work."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from core.domain import Alarm, MetricValue, WorkOrder
from rules.model import Rule
from rules.orders import alarm_order
from rules.recording import ACTOR, Recorder
from rules.suppression import owes_work_order
from storage.records.sessions import when_committed
from workorders.book import CHANGED as ORDER_CHANGED
from workorders.book import WorkOrderBook, work_order_json

log = logging.getLogger(__name__)

Values = Callable[[str], Mapping[str, MetricValue]]  # the latest values of an asset (or a site rule's counts)
Holding = Callable[[str, str], tuple[str, ...]]  # (site rule, site) -> the assets whose condition holds


class AlarmOrders:
    def __init__(self, recorder: Recorder, book: WorkOrderBook, values: Values, holding: Holding) -> None:
        self._rec = recorder
        self._book = book
        self._values = values
        self._holding = holding

    def open(self, rule: Rule, alarm: Alarm, assets: Sequence[str]) -> None:
        """Open the order the rule calls for, or attach the alarm to the open order of an earlier
        episode of the same fault (one order per alarm episode either way: a partial unique index)."""
        action = rule.work_order
        assert action is not None
        db = self._rec.db
        earlier = db.work_orders.open_for_rule(rule.id, alarm.asset_id)
        if earlier is not None:
            self._attach_recurrence(earlier, alarm)
            return
        order = alarm_order(rule, alarm, assets, self._values(alarm.asset_id))
        # The order is linked to the alarm in the transaction that creates it (this unit of work).
        work_order, created = self._book.open(action.kind, action.priority, order.title, alarm.site_id,
                                              order.asset_id, description=order.description, alarm_id=alarm.id,
                                              requester=None, related_assets=order.related_assets)
        if created:
            self._rec.count("work_orders_opened")
            self._rec.publish(replace(alarm, work_order_id=work_order.id))

    def _attach_recurrence(self, order: WorkOrder, alarm: Alarm) -> None:
        """A new episode of the fault an open order is about: counted and noted there, no second order."""
        db = self._rec.db
        db.alarms.link_work_order(alarm.id, order.id)
        note = f"the fault recurred: alarm #{alarm.id} ({alarm.rule_id} on {alarm.asset_id}) since " \
               f"{alarm.started_at.isoformat()}"
        order = db.work_orders.add_recurrence(order.id, self._rec.clock.now(), ACTOR, note,
                                              data={"alarm_id": alarm.id})
        self._rec.count("work_order_recurrences")
        changed = work_order_json(order)
        when_committed(lambda: self._rec.bus.publish(ORDER_CHANGED, changed))
        self._rec.publish(replace(alarm, work_order_id=order.id))

    def open_owed(self, alarms: Iterable[Alarm], at: datetime, rules: Mapping[str, Rule]) -> None:
        """Alarms whose mute just ended: those still active get the order their muted raise did not open.
        Each in a savepoint: one that fails is logged and leaves the others (and the unit) standing."""
        for alarm in alarms:
            rule = rules.get(alarm.rule_id)
            if rule is None or rule.work_order is None or not owes_work_order(alarm, at):
                continue
            try:
                with self._rec.unit() as work, work.savepoint():
                    self.open(rule, alarm, self._holding(rule.id, alarm.asset_id))
                    self._rec.count("work_orders_after_mute")
            except Exception:
                self._rec.counts["errors"] += 1
                log.exception("could not open the work order of alarm %s after its mute", alarm.id)
