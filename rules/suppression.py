"""Muting after evaluation, pure: a short list of stages that decide how a raised alarm is recorded.

After Alertmanager's flow (STYLE.md): the engine says *what* holds; these stages say what an operator
is shown. Each stage takes the candidate, the context (facts read from the database, time as data)
and the verdict so far, and returns the verdict. In order:

1. ``maintenance`` -- out of service: a planned maintenance window covers the asset (or its site), or
   the asset is within the scope of work under way: an order on site or in progress on it, or a
   site-level order naming it among its related assets (Alertmanager's silences). A safety-critical
   rule (entrapment, burst pipe, site power loss) is never out of service.
2. ``cause`` -- suppressed by design: an active alarm of a rule named in ``rule.suppressed_by`` on the
   same site (a power cut explains the pumps' and lights' mains alarms); and absence rules (no data,
   offline) while the collector itself is disconnected or lagging (its own alarm is the cause).
3. ``shelving`` -- an episode an operator shelved stays shelved until its shelf expires.
4. ``dedup`` -- one episode per (rule, asset): a raise on an episode already active is a duplicate.

A muted alarm is still recorded (so it can be listed under its cause) but opens no work order and is
not shown among the live alarms by default; if it is still active when its mute ends (``owes_work_order``)
it gets its work order then. ``CollectorGate`` is the pure state of the collector's
health with the grace period after it recovers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from core.domain import Alarm, MaintenanceWindow, WorkOrder

Key = tuple[str, str]  # (rule id, asset id); for a site rule the asset id is the site id


@dataclass(frozen=True, slots=True)
class Candidate:
    """A RAISE the engine produced, with what the stages need to know about its rule."""

    rule_id: str
    site_id: str
    asset_id: str
    at: datetime
    suppressed_by: frozenset[str] = frozenset()
    judges_absence: bool = False
    safety_critical: bool = False

    @property
    def key(self) -> Key:
        return self.rule_id, self.asset_id


@dataclass(frozen=True, slots=True)
class Context:
    """Facts at the time of the candidate, read by the caller (no I/O in here)."""

    windows: Sequence[MaintenanceWindow] = ()
    busy: Mapping[str, int] = field(default_factory=dict)  # asset id -> order under way on it (``busy_assets``)
    causes: Mapping[Key, int] = field(default_factory=dict)  # (site rule id, site id) -> its active alarm id
    collector_alarm: int | None = None  # id of the collector's own active alarm while absence rules hold
    shelved: Mapping[Key, datetime] = field(default_factory=dict)  # open episode -> its shelf's end
    active: frozenset[Key] = frozenset()  # episodes whose state is active (unacknowledged/acknowledged)


@dataclass(frozen=True, slots=True)
class Verdict:
    out_of_service: str = ""
    suppressed_by: int | None = None
    shelved_until: datetime | None = None
    duplicate: bool = False

    @property
    def muted(self) -> bool:
        """Recorded but not shown or acted on (no work order)."""
        return bool(self.out_of_service) or self.suppressed_by is not None or self.shelved_until is not None


Stage = Callable[[Candidate, Context, Verdict], Verdict]


def maintenance(candidate: Candidate, context: Context, verdict: Verdict) -> Verdict:
    return replace(verdict, out_of_service=out_of_service(candidate.site_id, candidate.asset_id, candidate.at,
                                                          context.windows, context.busy,
                                                          candidate.safety_critical))


def out_of_service(site_id: str, asset_id: str, at: datetime, windows: Sequence[MaintenanceWindow],
                   busy: Mapping[str, int], safety_critical: bool = False) -> str:
    """Why the asset is out of service at ``at`` ("" when it is in service, and always for a
    safety-critical rule: a passenger trapped during a door repair still needs the rescue order)."""
    if safety_critical:
        return ""
    for window in windows:
        if window.covers(site_id, asset_id, at):
            return f"maintenance window #{window.id} until {window.until.isoformat()}: {window.reason}"
    work_order = busy.get(asset_id)
    return "" if work_order is None else f"work order #{work_order} in progress"


def busy_assets(orders: Iterable[WorkOrder]) -> dict[str, int]:
    """Asset id -> the order under way on it: the order's own asset, or a site-level order's related
    assets (the scope of the work). Orders not occupying their assets (status) are left out."""
    busy: dict[str, int] = {}
    for order in orders:
        if order.status.occupies_asset:
            for asset_id in (order.asset_id, *order.related_assets):
                if asset_id is not None:
                    busy.setdefault(asset_id, order.id)
    return busy


def cause(candidate: Candidate, context: Context, verdict: Verdict) -> Verdict:
    if candidate.judges_absence and context.collector_alarm is not None:
        return replace(verdict, suppressed_by=context.collector_alarm)
    return replace(verdict, suppressed_by=suppressing_alarm(candidate.site_id, candidate.suppressed_by,
                                                            context.causes))


def suppressing_alarm(site_id: str, suppressed_by: frozenset[str], causes: Mapping[Key, int]) -> int | None:
    """The active alarm of a cause rule on the site, the lowest id if several."""
    found = [causes[rule_id, site_id] for rule_id in suppressed_by if (rule_id, site_id) in causes]
    return min(found) if found else None


def shelving(candidate: Candidate, context: Context, verdict: Verdict) -> Verdict:
    until = context.shelved.get(candidate.key)
    return replace(verdict, shelved_until=until if until is not None and candidate.at < until else None)


def dedup(candidate: Candidate, context: Context, verdict: Verdict) -> Verdict:
    return replace(verdict, duplicate=candidate.key in context.active)


STAGES: tuple[Stage, ...] = (maintenance, cause, shelving, dedup)


def is_muted(alarm: Alarm, at: datetime) -> bool:
    """Whether a recorded alarm is muted at ``at``: out of service, suppressed or shelved."""
    shelved = alarm.shelved_until is not None and at < alarm.shelved_until
    return bool(alarm.out_of_service) or alarm.suppressed_by is not None or shelved


def owes_work_order(alarm: Alarm, at: datetime) -> bool:
    """An alarm still active, no longer muted and without a work order: its raise, muted, opened none
    (whether its rule calls for one is the caller's to check)."""
    return alarm.work_order_id is None and alarm.state.is_active and not is_muted(alarm, at)


def mute(candidate: Candidate, context: Context, stages: Sequence[Stage] = STAGES) -> Verdict:
    """Run the stages in order over a fresh verdict."""
    verdict = Verdict()
    for stage in stages:
        verdict = stage(candidate, context, verdict)
    return verdict


@dataclass(frozen=True, slots=True)
class CollectorGate:
    """The collector's health as the rules see it: absence rules hold while it is disconnected or
    lagging, and for ``grace`` after it is healthy again (devices need time to report back). While
    starting up (no healthy report yet) it holds too, but is only ``overdue`` after ``grace``."""

    connected: bool = True
    lagging: bool = False
    since: datetime | None = None  # when the current condition began
    healthy_since: datetime | None = None  # when it last became healthy again
    seen_healthy: bool = False  # a report said healthy at least once (not the case while starting up)

    @property
    def healthy(self) -> bool:
        return self.connected and not self.lagging

    @property
    def reason(self) -> str:
        if not self.connected:
            return "lost its MQTT broker"
        return "is lagging behind" if self.lagging else ""

    def update(self, connected: bool, lagging: bool, at: datetime) -> CollectorGate:
        """The gate after a "collector.status" report at ``at`` (nothing changed: the same object)."""
        healthy = connected and not lagging
        if (connected, lagging) == (self.connected, self.lagging):
            return self if self.seen_healthy or not healthy else replace(self, seen_healthy=True)
        return CollectorGate(connected, lagging, at, at if healthy and not self.healthy else self.healthy_since,
                             self.seen_healthy or healthy)

    def overdue(self, at: datetime, grace: timedelta) -> bool:
        """Unhealthy since start-up for longer than ``grace`` (the broker never answered, a long replay)."""
        return not self.healthy and not self.seen_healthy and self.since is not None and at >= self.since + grace

    def holding(self, at: datetime, grace: timedelta) -> bool:
        """True while absence rules must not judge: unhealthy, or healthy for less than ``grace``."""
        if not self.healthy:
            return True
        return self.healthy_since is not None and at < self.healthy_since + grace
