"""A March of work at two sites, recorded through the work-order book, and its figures computed the pure way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain import (
    Asset,
    AssetKind,
    Site,
    WaitingFor,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
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
    backlog_by_age,
    is_open_at,
    pm_due,
    sla_outcome,
    summarise,
)
from workorders.slafile import default_policy

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
    """The orders of docs' hand-computed case (tests/workorders/test_figures.py says what each is for).

    The SLA deadlines are the packaged policy's: sites s1 and s2 work Monday to Friday 08:30-17:30 in
    Asia/Shanghai (UTC+8, no DST), i.e. 00:30-09:30 UTC, 9 h a working day; normal orders: accept within
    1 working hour, complete within 2 working days (18 h; waiting for the resident pauses it); emergencies:
    on site in 30 min, restored in 4 h around the clock; planned: accept within 1 working day, complete
    within 10 working days (90 h). March 1st, 2026 is a Sunday."""
    for site in ("s1", "s2"):
        db.assets.upsert_site(Site(site, site))
    for asset in ASSETS:
        db.assets.upsert_asset(asset)
    d = Desk(db)
    K = WorkOrderKind
    ids = {}
    # 1: a pump repair, 1 h to arrive, restored at completion 3 h later, verified, followed up (4), closed.
    # Opened Mon Mar 2 08:00 UTC (16:00 local): accept due 09:00 UTC, accepted 08:00: met; complete due after
    # 1.5 h Mon + 9 h Tue + 7.5 h Wed = Wed Mar 4 08:00 UTC, completed Mar 2 12:00: met.
    ids["first"] = o = d.open(_at(2), K.CORRECTIVE, "p1", requester="flat 3")
    d.work(o, _at(2, 9), _at(2, 12), "seal_leak")
    d.step(o, _at(3), S.VERIFIED)
    d.step(o, _at(4), S.FOLLOWED_UP, satisfaction=4)
    d.step(o, _at(4, 9), S.CLOSED)
    # 2: the same seal again 18 days later (a repeat of 1); sent back once; closed without a follow-up.
    # Opened Fri Mar 20 08:00 UTC (16:00 local): accepted at once (due 09:00): met; completed first at
    # 11:00 UTC, due Tue Mar 24 08:00 UTC (1.5 h Fri + 9 h Mon + 7.5 h Tue): met.
    ids["repeat"] = o = d.open(_at(20), K.REQUEST, "p1", requester="flat 5")
    d.work(o, _at(20, 9), _at(20, 11), "seal_leak")
    d.step(o, _at(20, 12), S.IN_PROGRESS, note="still leaking")
    d.step(o, _at(20, 13), S.COMPLETED, failure_code="seal_leak", cause="c", remedy="r", labour_hours=1.0)
    d.step(o, _at(21), S.VERIFIED)
    d.step(o, _at(21, 9), S.CLOSED)
    # 3: an elevator emergency, on site after 45 min (due in 30: breached), restored at 2:00 (due 4:00: met)
    ids["emergency"] = o = d.open(_at(10, 0), K.EMERGENCY, "e1", priority=WorkOrderPriority.EMERGENCY)
    d.work(o, _at(10, 0.75), _at(10, 5), "controller", restore=_at(10, 2))
    d.step(o, _at(11), S.VERIFIED)
    # 4: a pump order still requested at month end: opened Wed Mar 25 08:00 UTC (16:00 local), accept due
    # 09:00 UTC and complete due Fri Mar 27 08:00 UTC (1.5 h + 9 h + 7.5 h): both breached by month end
    ids["waiting"] = d.open(_at(25), K.CORRECTIVE, "p2")
    # 5: opened in February, still open
    ids["old"] = d.open(_at(1, 8, month=2), K.CORRECTIVE, "p2")
    # 6: a site-level request on the last evening, still open: opened Tue Mar 31 20:00 UTC (Wed 04:00 local),
    # accept due Apr 1 01:30 UTC (09:30 local): still running at month end, but the SLA watch recorded its
    # breach on Apr 1 (the escalation inserted below)
    ids["site"] = d.open(_at(31, 20), K.REQUEST, None, requester="flat 9")
    # 7: preventive every 15 days, opened Sun Mar 1 00:00 UTC: accept due Mon Mar 2 09:30 UTC (one working day),
    # accepted Mar 14 23:00: breached; complete due (10 working days, Mar 2 ... Mar 13) Fri Mar 13 09:30 UTC,
    # done Sun Mar 15 02:00: breached; but within the PM grace of 3 d (15 x 0.2), until Mar 16 09:30: on time
    ids["pm_done"] = o = d.open(_at(1, 0), K.PREVENTIVE, "p1", priority=WorkOrderPriority.PLANNED,
                                pm_interval_days=15.0)
    d.work(o, _at(15, 0), _at(15, 2))
    # 8: preventive every 30 days, opened Fri Feb 20 08:00 UTC (16:00 local): complete due after 1.5 h Fri
    # and 88.5 h = 9 working days (Feb 23 ... Mar 5) + 7.5 h: Fri Mar 6 08:00 UTC; grace 6 d, until Mar 12
    # 08:00, never done: late
    ids["pm_late"] = d.open(_at(20, 8, month=2), K.PREVENTIVE, "p2", priority=WorkOrderPriority.PLANNED,
                            pm_interval_days=30.0)
    # 9: a cancelled repair is no failure
    ids["cancelled"] = o = d.open(_at(5), K.CORRECTIVE, "p1")
    d.step(o, _at(5, 9), S.CANCELLED, note="duplicate")
    # 10: the other site's one repair
    ids["other_site"] = o = d.open(_at(3), K.CORRECTIVE, "q1", site="s2")
    d.work(o, _at(3, 10), _at(3, 14), "bearing")
    # 11: the other site's repair that waited for the resident: opened Mon Mar 9 01:00 UTC (09:00 local),
    # accepted 01:30 (due 02:00: met). Its complete would be due after 8.5 h Mon + 9 h Tue + 0.5 h Wed = Wed
    # Mar 11 01:00 UTC; it waited for the resident from Mon 02:00 to Thu Mar 12 02:00 UTC (1 h used), so the
    # remaining 17 h run 7.5 h Thu + 9 h Fri + 0.5 h Mon: due Mon Mar 16 01:00 UTC; done Fri Mar 13 08:00: met
    ids["resident"] = o = d.open(_at(9, 1), K.CORRECTIVE, "q1", site="s2")
    for to, hour in ((S.DISPATCHED, 1.5), (S.ACCEPTED, 1.5), (S.ON_SITE, 2)):
        d.step(o, _at(9, hour), to, assignee="tech")
    d.step(o, _at(9, 2), S.WAITING, waiting_for=WaitingFor.RESIDENT)
    d.step(o, _at(12, 2), S.IN_PROGRESS)
    d.step(o, _at(13, 8), S.COMPLETED, failure_code="bearing", cause="c", remedy="r", labour_hours=1.0)
    with db.engine.begin() as connection:
        connection.execute(SlaEscalationRow.__table__.insert(), [{  # type: ignore[attr-defined]
            "work_order_id": ids["site"], "target": "accept", "level": "breached", "at": _at(1, 1.5, month=4),
            "due_at": _at(1, 1.5, month=4)}])
        connection.execute(ComplaintRow.__table__.insert(), [  # type: ignore[attr-defined]
            _complaint("s1", _at(4)), _complaint("s1", _at(28)), _complaint("s1", _at(27, 8, month=2)),
            _complaint("s2", _at(9))])
    return ids


def _complaint(site: str, at: datetime) -> dict[str, object]:
    return {"site_id": site, "channel": "phone", "category": "noise", "status": "registered", "complainant": "r",
            "description": "noise", "received_at": at, "respond_due_at": at + H, "answer": "",
            "follow_up_comment": "", "work_order_ids": [], "version": 1}


def pure_figures(db: Database, month: Month, ids: dict[str, int], complaints: dict[str, int]) -> list[Figures]:
    """The same figures from whole WorkOrder objects and their whole histories, through ``workorders.kpi`` and
    the packaged SLA policy alone."""
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
            clocks = {o.id: default_policy().status(o, db.work_orders.history(o.id), month.end) for o in of_kind}
            sla = [sla_outcome(o.id, o.priority, clocks[o.id], _breached(ids, o.id))
                   for o in of_kind if month.holds(o.opened_at) and o.status is not S.CANCELLED]
            pm = [PmOrder(o.id, due, timedelta(days=_interval(ids, o.id)), o.completed_at) for o in of_kind
                  if o.kind is WorkOrderKind.PREVENTIVE and o.status is not S.CANCELLED
                  and (due := pm_due(clocks[o.id])) is not None]
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
    return ["accept"] if order_id == ids["site"] else []


def _interval(ids: dict[str, int], order_id: int) -> float:
    return {ids["pm_done"]: 15.0, ids["pm_late"]: 30.0}[order_id]
