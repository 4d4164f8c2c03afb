"""The monthly figures read from the records database: slim rows for the month's orders, SQL counts for the rest.

What needs every order of a site (the backlog at month end) and what has no per-order figure (complaints)
is counted by the database with GROUP BY; whether an order was ever sent back is an EXISTS over its events,
so no event row reaches Python. The month's orders themselves (a few thousand for all sites) come as slim
rows and go through the pure formulas of ``workorders.kpi``. Months are calendar months in UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select
from sqlalchemy.engine import Connection

from core.domain import WorkOrderKind, WorkOrderPriority, WorkOrderStatus
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
    arrival_targets,
    summarise,
)

W = WorkOrderRow
REPAIR_VALUES = [kind.value for kind in REPAIR_KINDS]


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One site's records for the month, as read."""

    orders: list[OrderFacts]
    sla: list[tuple[str, SlaOutcome]]  # (asset kind, outcome)
    pm: list[tuple[str, PmOrder]]


def monthly_figures(engine: Engine, month: Month, site_ids: Sequence[str] | None = None,
                    run_hours: Mapping[str, float] | None = None) -> list[Figures]:
    """Per site (every site of the sites table when ``site_ids`` is None), one Figures per asset kind of the
    site and one for ``ALL_KINDS``. ``run_hours``: each asset's run hours in the month, where it reports a
    ``run_hours`` counter (``reported_run_hours``); the others count calendar hours. NotFound for an unknown
    site."""
    with engine.connect() as connection:
        known = _all_sites(connection)
        sites = list(site_ids) if site_ids is not None else known
        unknown = sorted(set(sites) - set(known))
        if unknown:
            raise NotFound(f"site {', '.join(unknown)} not found")
        assets = _assets(connection, sites)
        loaded = _load(connection, month, sites)
        backlog = _backlog(connection, month, sites)
        complaints = _complaints(connection, month, sites)
    result = []
    for site in sites:
        site_assets = assets.get(site, {})
        data = loaded.get(site, _Loaded([], [], []))
        for kind in [*sorted(set(site_assets.values())), ALL_KINDS]:
            result.append(_figures(site, month, kind, site_assets, data, backlog.get(site, {}),
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
            W.opened_at, W.on_site_at, W.restored_at, W.completed_at, W.verified_at, W.followed_up_at,
            W.closed_at, W.failure_code, W.requester, W.satisfaction, sent_back.label("sent_back"), W.due_at,
            W.pm_interval_days]


def _in(column: Any, since: datetime, until: datetime) -> Any:
    return and_(column >= since, column < until)


def _load(connection: Connection, month: Month, sites: Sequence[str]) -> dict[str, _Loaded]:
    """The orders touching the month (opened, completed, closed, followed up in it; preventive orders whose
    grace may end in it), and the repairs around it that a repeat failure can pair them with."""
    start, end = month.start, month.end
    touching = or_(_in(W.opened_at, start, end), _in(W.completed_at, start, end), _in(W.closed_at, start, end),
                   _in(W.followed_up_at, start, end),
                   and_(W.kind == WorkOrderKind.PREVENTIVE.value, _in(W.due_at, start - PM_GRACE_CAP, end)))
    base = select(*_order_columns()).outerjoin(AssetRow, AssetRow.id == W.asset_id).where(W.site_id.in_(sites))
    rows = {row.id: row for row in connection.execute(base.where(touching))}
    month_repairs = [r for r in rows.values() if r.kind in REPAIR_VALUES and month.holds(r.completed_at)]
    earliest = min((r.opened_at for r in month_repairs), default=start)
    coded_repair = and_(W.kind.in_(REPAIR_VALUES), W.failure_code.is_not(None), W.asset_id.is_not(None))
    around = or_(_in(W.completed_at, earliest - REPEAT_WINDOW, start), _in(W.opened_at, end, end + REPEAT_WINDOW))
    for row in connection.execute(base.where(coded_repair, around)):
        rows.setdefault(row.id, row)
    breaches = _breaches(connection, month, sites)
    result: dict[str, _Loaded] = defaultdict(lambda: _Loaded([], [], []))
    for row in rows.values():
        _add(result[row.site_id], row, month, breaches.get(row.id, ()))
    return result


def _add(loaded: _Loaded, row: Any, month: Month, breached: Iterable[str]) -> None:
    facts = OrderFacts(
        id=row.id, kind=WorkOrderKind(row.kind), priority=WorkOrderPriority(row.priority),
        status=WorkOrderStatus(row.status), asset_id=row.asset_id, asset_kind=row.asset_kind, opened_at=row.opened_at,
        on_site_at=row.on_site_at, restored_at=row.restored_at, completed_at=row.completed_at,
        verified_at=row.verified_at, followed_up_at=row.followed_up_at, closed_at=row.closed_at,
        failure_code=row.failure_code, requester=row.requester, satisfaction=row.satisfaction,
        sent_back=bool(row.sent_back))
    loaded.orders.append(facts)
    if month.holds(row.opened_at) and facts.status is not WorkOrderStatus.CANCELLED:
        targets = arrival_targets(row.due_at, row.on_site_at, month.end, breached)
        loaded.sla.append((facts.asset_kind, SlaOutcome(facts.id, facts.priority, targets)))
    if (facts.kind is WorkOrderKind.PREVENTIVE and row.pm_interval_days
            and facts.status is not WorkOrderStatus.CANCELLED):
        pm = PmOrder(facts.id, row.due_at, timedelta(days=row.pm_interval_days), row.completed_at)
        loaded.pm.append((facts.asset_kind, pm))


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
