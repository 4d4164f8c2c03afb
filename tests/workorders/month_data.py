"""A March of work at two sites, recorded through the work-order book, and its figures computed the pure way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain import Asset, AssetKind, Site, WorkOrder, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.events import EventBus
from storage.records import Database
from storage.records.models import ComplaintRow, SlaEscalationRow
from storage.records.work_orders import WorkOrderFilter
from workorders.book import Step, WorkOrderBook
from workorders.kpi import (
    ALL_KINDS,
    Counted,
    Figures,
    Month,
    OrderFacts,
    PmOrder,
    SlaOutcome,
    arrival_targets,
    backlog_by_age,
    is_open_at,
    summarise,
)

MARCH = Month(2026, 3)
H = timedelta(hours=1)
S = WorkOrderStatus
ASSETS = [Asset("p1", "s1", AssetKind.PUMP, "Pump 1"), Asset("p2", "s1", AssetKind.PUMP, "Pump 2"),
          Asset("e1", "s1", AssetKind.ELEVATOR, "Lift 1"), Asset("q1", "s2", AssetKind.PUMP, "Pump Q")]
RUN_HOURS = {"p1": 300.0}


class SetClock:
    def __init__(self) -> None:
        self.at = MARCH.start

    def now(self) -> datetime:
        return self.at

    def wall_seconds(self, clock_seconds: float) -> float:
        return clock_seconds


def _at(day: int, hour: float = 8.0, month: int = 3) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


class Desk:
    def __init__(self, db: Database) -> None:
        self.clock = SetClock()
        self.book = WorkOrderBook(db, EventBus(), self.clock)

    def open(self, at: datetime, kind: WorkOrderKind, asset: str | None, site: str = "s1",
             priority: WorkOrderPriority = WorkOrderPriority.NORMAL, **fields: object) -> int:
        self.clock.at = at
        order, _ = self.book.open(kind, priority, f"{kind.value} {asset}", site, asset_id=asset, **fields)
        return order.id

    def step(self, order_id: int, at: datetime, to: WorkOrderStatus, **fields: object) -> WorkOrder:
        self.clock.at = at
        return self.book.transition(order_id, Step(to, "tech", **fields))  # type: ignore[arg-type]

    def work(self, order_id: int, arrive: datetime, complete: datetime, code: str = "other",
             restore: datetime | None = None) -> None:
        for to, at in ((S.DISPATCHED, arrive - H), (S.ACCEPTED, arrive - H), (S.ON_SITE, arrive),
                       (S.IN_PROGRESS, arrive)):
            self.step(order_id, at, to, assignee="tech")
        if restore is not None:
            self.clock.at = restore
            self.book.mark_restored(order_id, "tech")
        self.step(order_id, complete, S.COMPLETED, failure_code=code, cause="c", remedy="r", labour_hours=1.0)


def seed_march(db: Database) -> dict[str, int]:
    """The orders of docs' hand-computed case (tests/workorders/test_figures.py says what each is for)."""
    for site in ("s1", "s2"):
        db.assets.upsert_site(Site(site, site))
    for asset in ASSETS:
        db.assets.upsert_asset(asset)
    d = Desk(db)
    K = WorkOrderKind
    ids = {}
    # 1: a pump repair, 1 h to arrive, restored at completion 3 h later, verified, followed up (4), closed
    ids["first"] = o = d.open(_at(2), K.CORRECTIVE, "p1", requester="flat 3")
    d.work(o, _at(2, 9), _at(2, 12), "seal_leak")
    d.step(o, _at(3), S.VERIFIED)
    d.step(o, _at(4), S.FOLLOWED_UP, satisfaction=4)
    d.step(o, _at(4, 9), S.CLOSED)
    # 2: the same seal again 18 days later (a repeat of 1); sent back once; closed without a follow-up
    ids["repeat"] = o = d.open(_at(20), K.REQUEST, "p1", requester="flat 5")
    d.work(o, _at(20, 9), _at(20, 11), "seal_leak")
    d.step(o, _at(20, 12), S.IN_PROGRESS, note="still leaking")
    d.step(o, _at(20, 13), S.COMPLETED, failure_code="seal_leak", cause="c", remedy="r", labour_hours=1.0)
    d.step(o, _at(21), S.VERIFIED)
    d.step(o, _at(21, 9), S.CLOSED)
    # 3: an elevator emergency, on site after 45 min (due in 30), restored 75 min later, verified
    ids["emergency"] = o = d.open(_at(10, 0), K.EMERGENCY, "e1", priority=WorkOrderPriority.EMERGENCY)
    d.work(o, _at(10, 0.75), _at(10, 5), "controller", restore=_at(10, 2))
    d.step(o, _at(11), S.VERIFIED)
    # 4: a pump order still requested at month end (due 2 days after opening: breached)
    ids["waiting"] = d.open(_at(25), K.CORRECTIVE, "p2")
    # 5: opened in February, still open
    ids["old"] = d.open(_at(1, 8, month=2), K.CORRECTIVE, "p2")
    # 6: a site-level request on the last evening, still open
    ids["site"] = d.open(_at(31, 20), K.REQUEST, None, requester="flat 9")
    # 7: preventive every 15 days, due 14 days after opening (Mar 15), grace 3 d, done Mar 17: on time
    ids["pm_done"] = o = d.open(_at(1, 0), K.PREVENTIVE, "p1", priority=WorkOrderPriority.PLANNED,
                                pm_interval_days=15.0)
    d.work(o, _at(17, 0), _at(17, 2))
    # 8: preventive every 30 days, due Mar 6, grace 6 d, never done: late
    ids["pm_late"] = d.open(_at(20, 8, month=2), K.PREVENTIVE, "p2", priority=WorkOrderPriority.PLANNED,
                            pm_interval_days=30.0)
    # 9: a cancelled repair is no failure
    ids["cancelled"] = o = d.open(_at(5), K.CORRECTIVE, "p1")
    d.step(o, _at(5, 9), S.CANCELLED, note="duplicate")
    # 10: the other site's one repair
    ids["other_site"] = o = d.open(_at(3), K.CORRECTIVE, "q1", site="s2")
    d.work(o, _at(3, 10), _at(3, 14), "bearing")
    with db.engine.begin() as connection:
        connection.execute(SlaEscalationRow.__table__.insert(), [{  # type: ignore[attr-defined]
            "work_order_id": ids["first"], "target": "complete", "level": "breached", "at": _at(2, 11),
            "due_at": _at(2, 10)}])
        connection.execute(ComplaintRow.__table__.insert(), [  # type: ignore[attr-defined]
            _complaint("s1", _at(4)), _complaint("s1", _at(28)), _complaint("s1", _at(27, 8, month=2)),
            _complaint("s2", _at(9))])
    return ids


def _complaint(site: str, at: datetime) -> dict[str, object]:
    return {"site_id": site, "channel": "phone", "category": "noise", "status": "registered", "complainant": "r",
            "description": "noise", "received_at": at, "respond_due_at": at + H, "answer": "",
            "follow_up_comment": "", "work_order_ids": [], "version": 1}


def pure_figures(db: Database, month: Month, ids: dict[str, int], complaints: dict[str, int]) -> list[Figures]:
    """The same figures from whole WorkOrder objects and their histories, through ``workorders.kpi`` alone."""
    orders, _ = db.work_orders.page(WorkOrderFilter(), limit=10_000)
    kinds = {a.id: a.kind.value for a in db.assets.list()}
    result = []
    for site in sorted({a.site_id for a in db.assets.list()}):
        mine = [o for o in orders if o.site_id == site]
        facts = {o.id: _facts(db, o, kinds) for o in mine}
        for kind in [*sorted({k for a, k in kinds.items() if a in _site_assets(db, site)}), ALL_KINDS]:
            def chosen(order: OrderFacts, kind: str = kind) -> bool:
                return kind == ALL_KINDS or order.asset_kind == kind
            of_kind = [o for o in mine if chosen(facts[o.id])]
            sla = [SlaOutcome(o.id, o.priority,
                              arrival_targets(o.due_at, o.on_site_at, month.end, _breached(ids, o.id)))
                   for o in of_kind if month.holds(o.opened_at) and o.status is not S.CANCELLED]
            pm = [PmOrder(o.id, o.due_at, timedelta(days=_interval(ids, o.id)), o.completed_at) for o in of_kind
                  if o.kind is WorkOrderKind.PREVENTIVE and o.status is not S.CANCELLED]
            backlog = backlog_by_age([facts[o.id].opened_at for o in of_kind if is_open_at(facts[o.id], month.end)],
                                     month.end)
            counted = Counted(backlog, sum(1 for o in of_kind if month.holds(o.opened_at)),
                              complaints.get(site, 0) if kind == ALL_KINDS else None)
            assets = sorted(a for a in _site_assets(db, site) if kind == ALL_KINDS or kinds[a] == kind)
            result.append(summarise(site, month, kind, assets, [facts[o.id] for o in of_kind], sla,
                                    pm, counted, RUN_HOURS))
    return result


def _site_assets(db: Database, site: str) -> list[str]:
    return [a.id for a in db.assets.list(site_id=site)]


def _facts(db: Database, o: WorkOrder, kinds: dict[str, str]) -> OrderFacts:
    history = db.work_orders.history(o.id)
    sent_back = any(e.from_status is S.COMPLETED and e.to_status is S.IN_PROGRESS for e in history)
    return OrderFacts(o.id, o.kind, o.priority, o.status, o.asset_id, kinds.get(o.asset_id or "", ""), o.opened_at,
                      o.on_site_at, o.restored_at, o.completed_at, o.verified_at, o.followed_up_at, o.closed_at,
                      o.failure_code, o.requester, o.satisfaction, sent_back)


# The two facts the domain type does not carry, as seeded above.
def _breached(ids: dict[str, int], order_id: int) -> list[str]:
    return ["complete"] if order_id == ids["first"] else []


def _interval(ids: dict[str, int], order_id: int) -> float:
    return {ids["pm_done"]: 15.0, ids["pm_late"]: 30.0}[order_id]
