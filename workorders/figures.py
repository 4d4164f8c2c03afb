"""The monthly figures read from the records database: slim rows for the month's orders, SQL counts for the rest.

What needs every order of a site (the backlog at month end) and what has no per-order figure (complaints)
is counted by the database with GROUP BY; whether an order was ever sent back is an EXISTS over its events,
so no event row reaches Python. The month's orders themselves (a few thousand for all sites) come as slim
rows and go through the pure formulas of ``workorders.kpi``. Months are calendar months on each site's clock
(its time zone, else the configured default).

SLA compliance and PM due dates come from the SLA policy (``workorders.sla.sla_status`` at month end). The
clocks need an order's history only for its pauses, so events are read only for the orders that ever entered
a status the policy pauses in; the others get an empty history (a clock without pauses runs from opening).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select
from sqlalchemy.engine import Connection

from core.domain import WorkOrder, WorkOrderAction, WorkOrderEvent, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import NotFound
from storage.records.models import AssetRow, ComplaintRow, SiteRow, SlaEscalationRow, WorkOrderEventRow, WorkOrderRow
from storage.telemetry import TelemetryStore
from workorders.kpi import (
    ALL_KINDS,
    BACKLOG_BUCKETS,
    PM_GRACE_CAP,
    REPAIR_KINDS,
    REPEAT_WINDOW,
    Counted,
    Figures,
    Month,
    OrderFacts,
    PmOrder,
    SlaOutcome,
    pm_due,
    sla_outcome,
    summarise,
)
from workorders.sla import SlaPolicy, TargetStatus, sla_status
from workorders.slafile import default_policy

W = WorkOrderRow
REPAIR_VALUES = [kind.value for kind in REPAIR_KINDS]
# A preventive order is judged when the grace after its ``complete`` deadline ends: a deadline is assumed to
# fall within this long after opening (10 working days and a holiday week are three weeks).
PM_DUE_WITHIN = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One site's records for the month, as read."""

    orders: list[OrderFacts]
    sla: list[tuple[str, SlaOutcome]]  # (asset kind, outcome)
    pm: list[tuple[str, PmOrder]]


def monthly_figures(engine: Engine, month: Month, site_ids: Sequence[str] | None = None,
                    run_hours: Mapping[str, float] | None = None, policy: SlaPolicy | None = None,
                    default_zone: str = "UTC") -> list[Figures]:
    """Per site (every site of the sites table when ``site_ids`` is None), one Figures per asset kind of the
    site and one for ``ALL_KINDS``. ``run_hours``: each asset's run hours in the month, where it reports a
    ``run_hours`` counter (``reported_run_hours``); the others count calendar hours. ``policy``: the SLA
    policy (``load_policy(settings.sla.policy_file)``; the packaged one by default). Each site's month is its
    own calendar month (``sites.time_zone``, else ``default_zone``). NotFound for an unknown site."""
    with engine.connect() as connection:
        known = _all_sites(connection)
        sites = list(site_ids) if site_ids is not None else known
        unknown = sorted(set(sites) - set(known))
        if unknown:
            raise NotFound(f"site {', '.join(unknown)} not found")
        assets = _assets(connection, sites)
        months = _local_months(connection, month, sites, default_zone)
        loaded: dict[str, _Loaded] = {}
        backlog: dict[str, dict[str, dict[str, int]]] = {}
        complaints: dict[str, int] = {}
        for local in sorted(set(months.values())):  # one read per zone the sites keep
            members = [site for site in sites if months[site] == local]
            loaded.update(_load(connection, local, members, policy or default_policy()))
            backlog.update(_backlog(connection, local, members))
            complaints.update(_complaints(connection, local, members))
    result = []
    for site in sites:
        site_assets = assets.get(site, {})
        data = loaded.get(site, _Loaded([], [], []))
        for kind in [*sorted(set(site_assets.values())), ALL_KINDS]:
            result.append(_figures(site, months[site], kind, site_assets, data, backlog.get(site, {}),
                                   complaints.get(site, 0), run_hours or {}))
    return result


def _figures(site: str, month: Month, kind: str, assets: Mapping[str, str], data: _Loaded,
             backlog: Mapping[str, Mapping[str, int]], complaints: int, run_hours: Mapping[str, float]) -> Figures:
    def mine(asset_kind: str) -> bool:
        return kind == ALL_KINDS or asset_kind == kind

    orders = [o for o in data.orders if mine(o.asset_kind)]
    buckets = dict.fromkeys((name for name, _ in BACKLOG_BUCKETS), 0)
    for asset_kind, counts in backlog.items():
        if mine(asset_kind):
            for name, count in counts.items():
                buckets[name] += count
    counted = Counted(backlog=buckets, orders_opened=sum(1 for o in orders if month.holds(o.opened_at)),
                      complaints=complaints if kind == ALL_KINDS else None)
    return summarise(site, month, kind, sorted(a for a, k in assets.items() if mine(k)), orders,
                     [s for k, s in data.sla if mine(k)], [p for k, p in data.pm if mine(k)], counted, run_hours)


def _local_months(connection: Connection, month: Month, sites: Sequence[str], default_zone: str) -> dict[str, Month]:
    """Each site's calendar month on its own clock."""
    query = select(SiteRow.id, SiteRow.time_zone).where(SiteRow.id.in_(sites))
    zones: dict[str, str | None] = {row.id: row.time_zone for row in connection.execute(query)}
    return {site: month.in_zone(zones.get(site) or default_zone) for site in sites}


def _all_sites(connection: Connection) -> list[str]:
    return list(connection.scalars(select(SiteRow.id).order_by(SiteRow.id)))


def _assets(connection: Connection, sites: Sequence[str]) -> dict[str, dict[str, str]]:
    query = select(AssetRow.site_id, AssetRow.id, AssetRow.kind).where(AssetRow.site_id.in_(sites))
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for site, asset, kind in connection.execute(query):
        result[site][asset] = kind
    return result


def _order_columns() -> list[Any]:
    sent_back = exists().where(WorkOrderEventRow.work_order_id == W.id,
                               WorkOrderEventRow.from_status == WorkOrderStatus.COMPLETED.value,
                               WorkOrderEventRow.to_status == WorkOrderStatus.IN_PROGRESS.value)
    return [W.site_id, W.id, W.kind, W.priority, W.status, W.asset_id,
            func.coalesce(AssetRow.kind, "").label("asset_kind"),
            W.opened_at, W.accepted_at, W.on_site_at, W.restored_at, W.completed_at, W.verified_at, W.followed_up_at,
            W.closed_at, W.failure_code, W.requester, W.satisfaction, sent_back.label("sent_back"), W.due_at,
            W.pm_interval_days]


def _in(column: Any, since: datetime, until: datetime) -> Any:
    return and_(column >= since, column < until)


def _judged(month: Month) -> Any:
    """The orders whose SLA or PM compliance the month may judge: opened in it, or preventive orders whose
    grace may end in it."""
    return or_(_in(W.opened_at, month.start, month.end),
               and_(W.kind == WorkOrderKind.PREVENTIVE.value, W.pm_interval_days.is_not(None),
                    _in(W.opened_at, month.start - PM_GRACE_CAP - PM_DUE_WITHIN, month.end)))


def _load(connection: Connection, month: Month, sites: Sequence[str], policy: SlaPolicy) -> dict[str, _Loaded]:
    """The orders touching the month (opened, completed, closed, followed up in it; preventive orders whose
    grace may end in it), and the repairs around it that a repeat failure can pair them with."""
    start, end = month.start, month.end
    touching = or_(_judged(month), _in(W.completed_at, start, end), _in(W.closed_at, start, end),
                   _in(W.followed_up_at, start, end))
    base = select(*_order_columns()).outerjoin(AssetRow, AssetRow.id == W.asset_id).where(W.site_id.in_(sites))
    rows = {row.id: row for row in connection.execute(base.where(touching))}
    month_repairs = [r for r in rows.values() if r.kind in REPAIR_VALUES and month.holds(r.completed_at)]
    earliest = min((r.opened_at for r in month_repairs), default=start)
    coded_repair = and_(W.kind.in_(REPAIR_VALUES), W.failure_code.is_not(None), W.asset_id.is_not(None))
    around = or_(_in(W.completed_at, earliest - REPEAT_WINDOW, start), _in(W.opened_at, end, end + REPEAT_WINDOW))
    for row in connection.execute(base.where(coded_repair, around)):
        rows.setdefault(row.id, row)
    breaches = _breaches(connection, month, sites)
    histories = _pausing_histories(connection, month, sites, policy)
    clocks = _Clocks(policy, month.end)
    result: dict[str, _Loaded] = defaultdict(lambda: _Loaded([], [], []))
    for row in rows.values():
        _add(result[row.site_id], row, month, breaches.get(row.id, ()), clocks, histories.get(row.id, ()))
    return result


class _Clocks:
    """``sla_status`` at month end, with each (kind, priority, site)'s terms and calendar looked up once."""

    def __init__(self, policy: SlaPolicy, at: datetime) -> None:
        self._policy = policy
        self._at = at
        self._terms: dict[tuple[str, str, str], Any] = {}

    def status(self, row: Any, history: Sequence[WorkOrderEvent]) -> list[TargetStatus]:
        key = (row.kind, row.priority, row.site_id)
        if key not in self._terms:
            terms = self._policy.terms_for(WorkOrderKind(row.kind), WorkOrderPriority(row.priority), row.site_id)
            self._terms[key] = terms, self._policy.clock_for(terms, row.site_id)
        terms, calendar = self._terms[key]
        # sla_status reads the kind, status, opening, closing and the milestones of the order.
        order = WorkOrder(row.id, WorkOrderKind(row.kind), WorkOrderPriority(row.priority),
                          WorkOrderStatus(row.status), "", row.asset_id, row.site_id, row.opened_at, row.due_at,
                          closed_at=row.closed_at, accepted_at=row.accepted_at, on_site_at=row.on_site_at,
                          restored_at=row.restored_at, completed_at=row.completed_at)
        return sla_status(order, history, terms, calendar, self._at)


def _add(loaded: _Loaded, row: Any, month: Month, breached: Iterable[str], clocks: _Clocks,
         history: Sequence[WorkOrderEvent]) -> None:
    facts = OrderFacts(
        id=row.id, kind=WorkOrderKind(row.kind), priority=WorkOrderPriority(row.priority),
        status=WorkOrderStatus(row.status), asset_id=row.asset_id, asset_kind=row.asset_kind, opened_at=row.opened_at,
        on_site_at=row.on_site_at, restored_at=row.restored_at, completed_at=row.completed_at,
        verified_at=row.verified_at, followed_up_at=row.followed_up_at, closed_at=row.closed_at,
        failure_code=row.failure_code, requester=row.requester, satisfaction=row.satisfaction,
        sent_back=bool(row.sent_back))
    loaded.orders.append(facts)
    if facts.status is WorkOrderStatus.CANCELLED:
        return
    preventive = facts.kind is WorkOrderKind.PREVENTIVE and bool(row.pm_interval_days)
    if not (month.holds(row.opened_at) or preventive):
        return
    statuses = clocks.status(row, history)
    if month.holds(row.opened_at):
        loaded.sla.append((facts.asset_kind, sla_outcome(facts.id, facts.priority, statuses, breached)))
    due = pm_due(statuses) if preventive else None
    if due is not None:
        loaded.pm.append((facts.asset_kind, PmOrder(facts.id, due, timedelta(days=row.pm_interval_days),
                                                    row.completed_at)))


def _breaches(connection: Connection, month: Month, sites: Sequence[str]) -> dict[int, list[str]]:
    """The SLA targets recorded as breached (escalation level "breached") of orders opened in the month."""
    query = (select(SlaEscalationRow.work_order_id, SlaEscalationRow.target)
             .join(W, W.id == SlaEscalationRow.work_order_id)
             .where(W.site_id.in_(sites), _in(W.opened_at, month.start, month.end),
                    SlaEscalationRow.level == "breached"))
    result: dict[int, list[str]] = defaultdict(list)
    for order_id, target in connection.execute(query):
        result[order_id].append(target)
    return result


def _pausing_histories(connection: Connection, month: Month, sites: Sequence[str],
                       policy: SlaPolicy) -> dict[int, list[WorkOrderEvent]]:
    """The histories of the month's judged orders that ever entered a status some clock of ``policy`` pauses
    in (waiting, say): one query, and no event of any other order."""
    pausing = sorted({pause.status.value for rule in (*policy.rules, *(r for s in policy.sites.values()
                                                                           for r in s.rules))
                      for target in rule.targets.values() if target is not None for pause in target.paused_by})
    if not pausing:
        return {}
    E = WorkOrderEventRow
    paused = exists().where(E.work_order_id == W.id, E.to_status.in_(pausing))
    ids = select(W.id).where(W.site_id.in_(sites), _judged(month), paused)
    query = (select(E.work_order_id, E.at, E.actor, E.from_status, E.to_status, E.note, E.action, E.data)
             .where(E.work_order_id.in_(ids)).order_by(E.work_order_id, E.id))
    result: dict[int, list[WorkOrderEvent]] = defaultdict(list)
    for row in connection.execute(query):
        result[row.work_order_id].append(WorkOrderEvent(
            row.work_order_id, row.at, row.actor, None if row.from_status is None else WorkOrderStatus(row.from_status),
            WorkOrderStatus(row.to_status), row.note, WorkOrderAction(row.action), dict(row.data or {})))
    return result


def _backlog(connection: Connection, month: Month, sites: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
    """Per site and asset kind, the orders open at month end by age bucket, counted by the database."""
    end = month.end
    # An order is in a bucket when end - opened_at >= the bucket's lower bound: test from the oldest bucket.
    bucket = case(*[(W.opened_at <= end - lower, literal(name)) for name, lower in reversed(BACKLOG_BUCKETS[1:])],
                  else_=literal(BACKLOG_BUCKETS[0][0]))
    open_at_end = and_(W.site_id.in_(sites), W.opened_at < end, or_(W.completed_at.is_(None), W.completed_at >= end),
                       or_(W.closed_at.is_(None), W.closed_at >= end))
    # Grouped outside a subquery: PostgreSQL does not see two renderings of a bound CASE as one expression.
    inner = (select(W.site_id, func.coalesce(AssetRow.kind, "").label("kind"), bucket.label("bucket"))
             .outerjoin(AssetRow, AssetRow.id == W.asset_id).where(open_at_end).subquery())
    query = (select(inner.c.site_id, inner.c.kind, inner.c.bucket, func.count())
             .group_by(inner.c.site_id, inner.c.kind, inner.c.bucket))
    result: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for site, asset_kind, name, count in connection.execute(query):
        result[site][asset_kind][name] = count
    return result


def _complaints(connection: Connection, month: Month, sites: Sequence[str]) -> dict[str, int]:
    query = (select(ComplaintRow.site_id, func.count())
             .where(ComplaintRow.site_id.in_(sites), _in(ComplaintRow.received_at, month.start, month.end))
             .group_by(ComplaintRow.site_id))
    return {str(site): int(count) for site, count in connection.execute(query)}


def reported_run_hours(store: TelemetryStore, asset_ids: Iterable[str], month: Month) -> dict[str, float]:
    """Run hours in the month of each asset that reports a ``run_hours`` counter: its largest value in the
    month minus its smallest (a counter that went backwards, a replaced meter, counts from its smallest)."""
    result: dict[str, float] = {}
    window = month.end - month.start
    for asset in asset_ids:
        highs = store.query(asset, "run_hours", month.start, month.end, window=window, agg="max")
        lows = store.query(asset, "run_hours", month.start, month.end, window=window, agg="min")
        if highs and lows:
            result[asset] = max(v for _, v in highs) - min(v for _, v in lows)
    return result
