"""The monthly figures of the service standard as pure functions over plain records (time comes in as data).

Every function states its formula in its docstring; ``workorders.figures`` reads the records (and does the
counting that SQL does faster), ``summarise`` puts one site's, one asset kind's month together.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from core.domain import WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import InvalidRequest
from core.zones import parse_zone
from workorders.sla import SlaState, TargetName, TargetStatus

ALL_KINDS = "all"  # the figures of every asset kind together (and of site-level orders)
REPAIR_KINDS = frozenset({WorkOrderKind.CORRECTIVE, WorkOrderKind.EMERGENCY, WorkOrderKind.REQUEST})
REPEAT_WINDOW = timedelta(days=30)
PM_GRACE_SHARE = 0.2
PM_GRACE_CAP = timedelta(days=28)
PM_TARGET = 0.9
# Backlog age buckets: (label, lower bound inclusive); an order's age is month end - opened_at.
BACKLOG_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("0-2d", timedelta(0)), ("3-7d", timedelta(days=3)), ("8-30d", timedelta(days=8)), (">30d", timedelta(days=31)))


MIN_YEAR, MAX_YEAR = 1970, 9998


@lru_cache(maxsize=256)
def _month_start(year: int, month: int, zone: str) -> datetime:
    # Cached: the figures ask a month for its bounds about a million times over a large portfolio.
    return datetime(year, month, 1, tzinfo=parse_zone(zone)).astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month on a site's clock (``zone``, IANA; UTC by default): ``[start, end)`` as UTC instants,
    so a month of a site in Asia/Shanghai starts at 16:00 UTC on the last day of the month before."""

    year: int
    month: int
    zone: str = "UTC"

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM`` (InvalidRequest otherwise)."""
        if not re.fullmatch(r"\d{4}-\d{2}", text) or not 1 <= int(text[5:]) <= 12:
            raise InvalidRequest(f"month must be YYYY-MM, not {text!r}")
        if not MIN_YEAR <= int(text[:4]) <= MAX_YEAR:  # the figures look months around it: stay in range
            raise InvalidRequest(f"month must lie in the years {MIN_YEAR}-{MAX_YEAR}, not {text!r}")
        return cls(int(text[:4]), int(text[5:]))

    @property
    def start(self) -> datetime:
        return _month_start(self.year, self.month, self.zone)

    @property
    def end(self) -> datetime:
        return _month_start(self.year + self.month // 12, self.month % 12 + 1, self.zone)

    def in_zone(self, zone: str) -> Month:
        """The same calendar month on another clock."""
        return Month(self.year, self.month, zone)

    @property
    def hours(self) -> float:
        return (self.end - self.start) / timedelta(hours=1)

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Ratio:
    """``part / whole``; ``value`` is None when there is nothing to divide (no whole)."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the figures need of one work order; ``asset_kind`` is "" for a site-level order."""

    id: int
    kind: WorkOrderKind
    priority: WorkOrderPriority
    status: WorkOrderStatus
    asset_id: str | None
    asset_kind: str
    opened_at: datetime
    on_site_at: datetime | None = None
    restored_at: datetime | None = None
    completed_at: datetime | None = None  # the first completion
    verified_at: datetime | None = None
    followed_up_at: datetime | None = None
    closed_at: datetime | None = None  # closed or cancelled
    failure_code: str | None = None
    requester: str | None = None
    satisfaction: int | None = None
    sent_back: bool = False  # went completed -> in_progress at least once (the fix did not hold)

    @property
    def is_repair(self) -> bool:
        return self.kind in REPAIR_KINDS


@dataclass(frozen=True, slots=True)
class SlaOutcome:
    """One order's SLA targets at month end: those decided (target name -> met) and those still running.

    The order is judged once every target is decided, or as soon as one is breached (it cannot comply any
    more); it complies when every target it had was met (``sla_outcome`` makes one from ``sla_status``).
    """

    order_id: int
    priority: WorkOrderPriority
    targets: Mapping[str, bool] = field(default_factory=dict)
    running: frozenset[str] = frozenset()

    @property
    def judged(self) -> bool:
        return bool(self.targets) and (not self.running or not all(self.targets.values()))

    @property
    def met(self) -> bool:
        return self.judged and all(self.targets.values())


@dataclass(frozen=True, slots=True)
class PmOrder:
    """A preventive order: when it was due, its interval, when it was completed (None: not yet)."""

    order_id: int
    due_at: datetime
    interval: timedelta
    completed_at: datetime | None = None


def repair_rate(repairs: int, assets: int) -> float | None:
    """Repairs per asset: corrective + emergency + request orders completed in the month / assets."""
    return repairs / assets if assets else None


def mttr_hours(repairs: Iterable[OrderFacts]) -> float | None:
    """Mean time to restore: mean over repairs of (restored_at - on_site_at) in hours; repairs lacking either
    milestone are left out; None without any."""
    hours = [(r.restored_at - r.on_site_at) / timedelta(hours=1) for r in repairs
             if r.on_site_at is not None and r.restored_at is not None and r.restored_at >= r.on_site_at]
    return sum(hours) / len(hours) if hours else None


def operating_hours(asset_ids: Iterable[str], month: Month, run_hours: Mapping[str, float]) -> float:
    """Sum over assets of the run hours the asset reported for the month (its ``run_hours`` counter, clamped
    to [0, hours in the month]), or of the calendar hours of the month where it reports none."""
    return sum(min(max(run_hours[a], 0.0), month.hours) if a in run_hours else month.hours for a in asset_ids)


def mtbf_hours(asset_ids: Iterable[str], failures: int, month: Month,
               run_hours: Mapping[str, float]) -> float | None:
    """Mean time between failures: operating hours of the assets (``operating_hours``) / failures; with no
    run hours reported that is hours in the month x assets / failures. None without a failure."""
    return operating_hours(asset_ids, month, run_hours) / failures if failures else None


def repeats(repairs: Iterable[OrderFacts], window: timedelta = REPEAT_WINDOW) -> tuple[set[int], set[int]]:
    """(repeats, repeated): a repair B repeats a completed repair A when both have the same asset and failure
    code and B was opened within ``window`` after A's completion (A.completed_at < B.opened_at <=
    A.completed_at + window). ``repeated`` holds the ids of such A."""
    completions: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    coded = [r for r in repairs if r.asset_id and r.failure_code]
    for r in coded:
        if r.completed_at is not None:
            completions[(r.asset_id or "", r.failure_code or "")].append((r.completed_at, r.id))
    for times in completions.values():
        times.sort()
    repeating: set[int] = set()
    repeated: set[int] = set()
    for b in coded:
        times = completions[(b.asset_id or "", b.failure_code or "")]
        # earlier completions in [B.opened_at - window, B.opened_at)
        low = bisect.bisect_left(times, (b.opened_at - window, -1))
        high = bisect.bisect_left(times, (b.opened_at, -1))
        earlier = [order_id for _, order_id in times[low:high] if order_id != b.id]
        if earlier:
            repeating.add(b.id)
            repeated.update(earlier)
    return repeating, repeated


def first_time_fix(repairs: Iterable[OrderFacts], repeated: set[int]) -> Ratio:
    """First-time fix rate: repairs completed and verified, never sent back (completed -> in_progress) and
    not followed by a repeat failure (``repeats``) / repairs completed."""
    done = list(repairs)
    fixed = sum(1 for r in done if r.verified_at is not None and not r.sent_back and r.id not in repeated)
    return Ratio(fixed, len(done))


def sla_compliance(outcomes: Iterable[SlaOutcome]) -> dict[WorkOrderPriority, Ratio]:
    """Per priority: judged orders (``SlaOutcome.judged``) whose every target was met / judged orders."""
    met: dict[WorkOrderPriority, int] = defaultdict(int)
    judged: dict[WorkOrderPriority, int] = defaultdict(int)
    for outcome in outcomes:
        if outcome.judged:
            judged[outcome.priority] += 1
            met[outcome.priority] += outcome.met
    return {p: Ratio(met[p], judged[p]) for p in WorkOrderPriority}


def pm_grace(interval: timedelta) -> timedelta:
    """SMRP grace: 20 % of the interval, at most 28 days."""
    return min(interval * PM_GRACE_SHARE, PM_GRACE_CAP)


def pm_deadline(pm: PmOrder) -> datetime:
    return pm.due_at + pm_grace(pm.interval)


def pm_compliance(pms: Iterable[PmOrder]) -> Ratio:
    """PM compliance (SMRP 5.4.1): PM orders completed by due_at + grace / PM orders whose grace ended in the
    month (the caller picks those, so each is judged once, when its deadline passes). Target >= 90 %."""
    chosen = list(pms)
    on_time = sum(1 for pm in chosen if pm.completed_at is not None and pm.completed_at <= pm_deadline(pm))
    return Ratio(on_time, len(chosen))


def age_bucket(age: timedelta) -> str:
    """The backlog bucket of an open order of this age: 0-2 d, 3-7 d, 8-30 d, > 30 d (whole days)."""
    label = BACKLOG_BUCKETS[0][0]
    for name, lower in BACKLOG_BUCKETS:
        if age >= lower:
            label = name
    return label


def is_open_at(order: OrderFacts, at: datetime) -> bool:
    """Opened before ``at`` and neither completed nor closed/cancelled before ``at``."""
    return order.opened_at < at and all(t is None or t >= at for t in (order.completed_at, order.closed_at))


def backlog_by_age(opened: Iterable[datetime], at: datetime) -> dict[str, int]:
    """Open orders at ``at`` (the month end) counted by ``age_bucket(at - opened_at)``."""
    counts = dict.fromkeys((name for name, _ in BACKLOG_BUCKETS), 0)
    for opened_at in opened:
        counts[age_bucket(at - opened_at)] += 1
    return counts


def complaint_rate(complaints: int, orders: int) -> float | None:
    """Complaints per 100 orders: complaints received in the month x 100 / orders opened in the month."""
    return complaints * 100 / orders if orders else None


def satisfaction(scores: Iterable[int]) -> float | None:
    """Mean of the 1-5 follow-up scores recorded in the month; None without any."""
    values = list(scores)
    return sum(values) / len(values) if values else None


def follow_up_coverage(closed: Iterable[OrderFacts]) -> Ratio:
    """Orders closed in the month that had a requester and were followed up / orders closed in the month that
    had a requester."""
    asked = [o for o in closed if o.requester]
    return Ratio(sum(1 for o in asked if o.followed_up_at is not None), len(asked))


@dataclass(frozen=True, slots=True)
class Figures:
    """One site's figures for one month and one asset kind (or ``ALL_KINDS``)."""

    site_id: str
    month: Month
    kind: str
    assets: int
    orders_opened: int
    repairs: int
    repair_rate: float | None
    mttr_hours: float | None
    failures: int
    mtbf_hours: float | None
    sla: dict[WorkOrderPriority, Ratio]
    pm: Ratio
    first_time_fix: Ratio
    repeat_failures: int
    backlog: dict[str, int]
    complaints: int | None  # complaints have no asset kind: only on the ALL_KINDS row
    complaints_per_100_orders: float | None
    satisfaction: float | None
    follow_up: Ratio


@dataclass(frozen=True, slots=True)
class Counted:
    """What ``figures`` counts in SQL for one (site, kind): the backlog, complaints, orders opened."""

    backlog: dict[str, int]
    orders_opened: int
    complaints: int | None = None


def summarise(site_id: str, month: Month, kind: str, asset_ids: Sequence[str], orders: Sequence[OrderFacts],
              sla: Iterable[SlaOutcome], pm: Iterable[PmOrder], counted: Counted,
              run_hours: Mapping[str, float]) -> Figures:
    """The figures of one site, month and kind from its records. ``orders`` holds the kind's orders touching
    the month and the repairs around it (for repeats); each figure picks its own (see each function). ``sla``:
    the outcomes of the orders opened in the month; ``pm``: preventive orders, judged in the month their
    grace ends."""
    repairs = [o for o in orders if o.is_repair and month.holds(o.completed_at)]
    failures = sum(1 for o in orders if o.is_repair and o.asset_id and month.holds(o.opened_at)
                   and o.status is not WorkOrderStatus.CANCELLED)
    repeating, repeated = repeats([o for o in orders if o.is_repair])
    closed = [o for o in orders if o.status is WorkOrderStatus.CLOSED and month.holds(o.closed_at)]
    scores = [o.satisfaction for o in orders if month.holds(o.followed_up_at) and o.satisfaction is not None]
    return Figures(
        site_id=site_id, month=month, kind=kind, assets=len(asset_ids), orders_opened=counted.orders_opened,
        repairs=len(repairs), repair_rate=repair_rate(len(repairs), len(asset_ids)), mttr_hours=mttr_hours(repairs),
        failures=failures, mtbf_hours=mtbf_hours(asset_ids, failures, month, run_hours),
        sla=sla_compliance(sla), pm=pm_compliance(p for p in pm if month.holds(pm_deadline(p))),
        first_time_fix=first_time_fix(repairs, repeated),
        repeat_failures=sum(1 for r in repairs if r.id in repeating), backlog=counted.backlog,
        complaints=counted.complaints,
        complaints_per_100_orders=None if counted.complaints is None
        else complaint_rate(counted.complaints, counted.orders_opened),
        satisfaction=satisfaction(scores), follow_up=follow_up_coverage(closed))


def sla_outcome(order_id: int, priority: WorkOrderPriority, statuses: Iterable[TargetStatus],
                breached: Iterable[str] = ()) -> SlaOutcome:
    """Each target as ``sla_status`` says at month end: ``met``, ``breached``, or still running (``running``,
    ``at_risk``, ``paused``); a target ``stopped`` by a cancellation is left out. A target in ``breached``
    (a breach the SLA watch recorded, perhaps after month end) is breached whatever the status says."""
    targets: dict[str, bool] = {}
    running: set[str] = set()
    for status in statuses:
        if status.state in (SlaState.MET, SlaState.BREACHED):
            targets[status.target.value] = status.state is SlaState.MET
        elif status.state is not SlaState.STOPPED:
            running.add(status.target.value)
    for name in breached:
        targets[name] = False
        running.discard(name)
    return SlaOutcome(order_id, priority, targets, frozenset(running))


def pm_due(statuses: Iterable[TargetStatus]) -> datetime | None:
    """A preventive order's due date: the deadline of its ``complete`` target (None without one)."""
    return next((status.due_at for status in statuses if status.target is TargetName.COMPLETE), None)
