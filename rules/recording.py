"""What every writer of the rules shares: one unit of work per effect, fenced by the partition's lease, and
bus events and counters that take effect only once that unit commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.clock import Clock
from core.domain import Alarm
from core.errors import Fenced, ServiceUnavailable
from core.events import EventBus
from rules.alarm_events import CHANGED, alarm_json
from storage.records import Database
from storage.records.leases import Lease
from storage.records.sessions import UnitOfWork, when_committed

ACTOR = "rules"
COUNTERS = ("alarms_raised", "alarms_reraised", "alarms_cleared", "duplicate_raises", "stale_clears",
            "work_orders_opened", "work_orders_after_mute", "work_order_recurrences", "alarms_acknowledged",
            "alarms_muted", "alarms_chattering", "shelves_expired", "held_ticks", "collector_alarms",
            "portfolio_silences", "checkpoints", "errors", "fenced", "unrecorded", "rewinds")


class Recorder:
    """The database, bus, clock and counters of the rules, and ``fence``: the partition's lease (None: not
    partitioned). Every write of the partition's rules runs in ``unit()``, refused with ``Fenced`` once
    another instance holds the lease; operators' commands run in ``unit(fenced=False)`` (the API holds no lease)."""

    def __init__(self, db: Database, bus: EventBus, clock: Clock) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.fence: Lease | None = None
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.on_fenced: Callable[[str], object] | None = None  # told why, at each refused write
        # A partition write failed because the records database did not answer: the state in memory ran
        # ahead of the database, so it goes back to the checkpoint and the readings since are evaluated again.
        self.behind = False

    def refused(self, error: Fenced) -> None:
        """A write was refused because another instance holds the partition: counted, and the runtime told."""
        self.counts["fenced"] += 1
        if self.on_fenced is not None:
            self.on_fenced(str(error))

    @contextmanager
    def unit(self, fenced: bool = True) -> Iterator[UnitOfWork]:
        try:
            with self.db.unit_of_work(fence=self.fence if fenced else None) as work:
                yield work
        except ServiceUnavailable:
            if fenced:  # the partition's own effect (not an operator's command, which is answered 503)
                self.behind = True
                self.counts["unrecorded"] += 1
            raise

    def publish(self, alarm: Alarm, topic: str = CHANGED) -> Alarm:
        """Announce ``alarm`` once the unit of work commits (at once outside one)."""
        when_committed(lambda: self.bus.publish(topic, alarm_json(alarm)))
        return alarm

    def count(self, name: str, by: int = 1) -> None:
        """Count once the unit of work commits: a rolled-back effect is not counted."""
        def add() -> None:
            self.counts[name] += by
        when_committed(add)

    def later(self, action: Callable[[], None]) -> None:
        """Change in-memory state once the unit commits, so memory never runs ahead of the database."""
        when_committed(action)
