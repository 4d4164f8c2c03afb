"""The plan in use: re-planning reconciles tasks and planned work orders; planners accept, move, reject.

The solver is a pure function of the problem; here a scripted one answers with the tasks each test
chooses (what a new forecast would make the real one answer), so that the reconciliation is what is
tested. The records, the work-order book and the notice board are the real ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Forecast, Site, WorkOrderSource, WorkOrderStatus
from core.errors import Conflict, InvalidRequest, NotFound
from core.events import EventBus
from core.plans import PlanTask, PlanTaskStatus, SolveStatus
from people.model import Skill, Technician, User
from people.records import PeopleRecords
from people.roster import DEFAULT_ROSTER, load_roster
from predictor.plan_inputs import PlannerSetup, ProblemBuilder, asset_state
from predictor.planner_service import PlanningService
from predictor.planning.problem import Horizon, Problem, Solution
from predictor.planning.solver import solve
from simulators.portfolio import default_portfolio
from storage.records import Database
from storage.records.work_orders import WorkOrderFilter
from workorders.book import Step, WorkOrderBook
from workorders.notice_board import NoticeBoard

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
TODAY = date(2026, 3, 2)
_T = PlanTaskStatus


def task(asset: str, due_in: int, planned_in: int, tech: str = "pia", *, rule: str = "pump.service",
         residents: bool = False) -> PlanTask:
    return PlanTask(rule, asset, "north", TODAY + timedelta(days=due_in), TODAY + timedelta(days=planned_in), tech,
                    "Pump service", 2.0, 180.0, 60.0, ("P10 of remaining life is 12 days", "service due"),
                    affects_residents=residents)


@dataclass
class Scripted:
    """The solver's answer for the next run, and the problems it was given."""

    answer: list[PlanTask]
    problems: list[Problem] = field(default_factory=list)

    def __call__(self, problem: Problem, time_limit_s: float) -> Solution:
        self.problems.append(problem)
        return Solution(SolveStatus.OPTIMAL, list(self.answer), sum(t.planned_cost for t in self.answer))


@dataclass
class Desk:
    db: Database
    clock: ManualClock
    book: WorkOrderBook
    solver: Scripted
    service: PlanningService
    board: NoticeBoard

    def orders(self) -> list[int]:
        return [o.id for o in self.db.work_orders.page(WorkOrderFilter(source=WorkOrderSource.PLANNED), 500)[0]]


@pytest.fixture
def desk(sqlite_db: Database) -> Desk:
    """The reconciliation on SQLite; the records' own tests, and the race below, run on PostgreSQL too."""
    return make_desk(sqlite_db)


def make_desk(db: Database) -> Desk:
    db.assets.upsert_site(Site("north", "North Tower"))
    for asset in (Asset("p1", "north", AssetKind.PUMP, "Pump 1"), Asset("p2", "north", AssetKind.PUMP, "Pump 2"),
                  Asset("e1", "north", AssetKind.ELEVATOR, "Lift A")):
        db.assets.upsert_asset(asset)
    clock = ManualClock(T0)
    bus = EventBus()
    book = WorkOrderBook(db, bus, clock)
    board = NoticeBoard(db, bus, clock)
    solver = Scripted([task("p1", 10, 8), task("p2", 20, 15, "eli")])
    builder = ProblemBuilder(db, PeopleRecords(db), PlannerSetup.load())
    return Desk(db, clock, book, solver, PlanningService(db, book, clock, builder, solver, notices=board), board)


def test_replanning_three_times_with_the_same_facts_opens_each_order_once(desk: Desk) -> None:
    runs = [desk.service.replan() for _ in range(3)]
    assert [(r.opened, r.moved, r.dropped) for r in runs] == [(2, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert [[t.id for t in r.tasks] for r in runs[1:]] == [[t.id for t in runs[0].tasks]] * 2
    assert len(desk.orders()) == 2
    first = runs[0].tasks[0]
    assert first.work_order_id is not None
    order = desk.db.work_orders.get(first.work_order_id)
    assert (order.source_ref, order.assignee, order.status) == (
        f"plan-task:{first.id}", "pia", WorkOrderStatus.REQUESTED)
    assert order.due_at == datetime(2026, 3, 11, tzinfo=UTC)  # the end of the planned day, 10 Mar
    assert order.description == "P10 of remaining life is 12 days; service due"
    assert len(desk.db.work_orders.history(order.id)) == 2  # opened, then due and assignee set: no more


def test_a_newer_forecast_moves_a_proposed_task_and_its_order_follows(desk: Desk) -> None:
    first = desk.service.replan().tasks
    desk.solver.answer = [task("p1", 10, 3, "tom"), task("p2", 20, 15, "eli")]  # worse forecast: sooner
    run = desk.service.replan()
    assert (run.opened, run.moved, run.dropped) == (0, 1, 0)
    moved = run.tasks[0]
    assert (moved.id, moved.planned_date, moved.technician_id, moved.status) == (
        first[0].id, TODAY + timedelta(days=3), "tom", _T.PROPOSED)
    assert moved.work_order_id is not None
    order = desk.db.work_orders.get(moved.work_order_id)
    assert (order.due_at, order.assignee) == (datetime(2026, 3, 6, tzinfo=UTC), "tom")
    assert len(desk.orders()) == 2


def test_a_task_the_new_plan_no_longer_holds_is_dropped_and_its_order_cancelled(desk: Desk) -> None:
    first = desk.service.replan().tasks
    desk.solver.answer = [task("p1", 10, 8)]
    run = desk.service.replan()
    assert run.dropped == 1
    assert [t.asset_id for t in run.tasks] == ["p1"]
    dropped = desk.db.plans.get(first[1].id or 0)
    assert dropped.status is _T.DROPPED
    assert dropped.work_order_id is not None
    order = desk.db.work_orders.get(dropped.work_order_id)
    assert order.status is WorkOrderStatus.CANCELLED
    assert "no longer needs" in desk.db.work_orders.history(order.id)[-1].note
    desk.solver.answer = [task("p1", 10, 8), task("p2", 20, 15, "eli")]  # needed again: a new order
    again = desk.service.replan()
    assert again.opened == 1
    back = desk.db.plans.get(first[1].id or 0)
    assert back.status is _T.PROPOSED
    assert back.work_order_id not in (None, order.id)


def test_a_shorter_horizon_drops_nothing_due_beyond_it(desk: Desk) -> None:
    desk.service.replan()
    desk.solver.answer = [task("p1", 10, 8)]  # what a 14-day plan holds: p2 is due on day 20
    run = desk.service.replan(horizon_days=14)
    assert run.dropped == 0
    assert [t.asset_id for t in run.tasks] == ["p1", "p2"]


def test_accepted_tasks_are_kept_and_rejected_keys_never_come_back(desk: Desk) -> None:
    kept, refused = desk.service.replan().tasks
    assert kept.id is not None
    assert refused.id is not None
    desk.service.accept(kept.id, "zhao")
    rejected = desk.service.reject(refused.id, "pump replaced last week", "zhao")
    assert (rejected.status, rejected.move_reason, rejected.decided_by) == (
        _T.REJECTED, "pump replaced last week", "zhao")
    assert desk.db.work_orders.get(refused.work_order_id or 0).status is WorkOrderStatus.CANCELLED
    desk.solver.answer = [task("p1", 10, 2, "tom"), task("p2", 20, 15, "eli")]
    run = desk.service.replan()
    assert (run.opened, run.kept) == (0, 1)
    assert desk.solver.problems[-1].pinned[0].id == kept.id
    assert refused.key in desk.solver.problems[-1].rejected
    stored = desk.db.plans.get(kept.id)
    assert (stored.status, stored.planned_date, stored.technician_id) == (_T.ACCEPTED, kept.planned_date, "pia")
    assert desk.db.plans.get(refused.id).status is _T.REJECTED
    assert len(desk.orders()) == 2


def test_a_move_needs_a_reason_and_takes_the_order_along(desk: Desk) -> None:
    first = desk.service.replan().tasks[0]
    assert first.id is not None
    with pytest.raises(InvalidRequest, match="reason"):
        desk.service.move(first.id, TODAY + timedelta(days=5), " ", "zhao")
    with pytest.raises(InvalidRequest, match="past"):
        desk.service.move(first.id, TODAY - timedelta(days=1), "oops", "zhao")
    moved = desk.service.move(first.id, TODAY + timedelta(days=5), "residents' festival on the 10th", "zhao", "tom")
    assert (moved.status, moved.planned_date, moved.technician_id, moved.move_reason) == (
        _T.MOVED, TODAY + timedelta(days=5), "tom", "residents' festival on the 10th")
    order = desk.db.work_orders.get(moved.work_order_id or 0)
    assert (order.due_at, order.assignee) == (datetime(2026, 3, 8, tzinfo=UTC), "tom")
    assert "residents' festival" in desk.db.work_orders.history(order.id)[-1].note


def test_regulatory_work_cannot_be_moved_past_its_due_date(desk: Desk) -> None:
    desk.solver.answer = [task("e1", 10, 8, "tom", rule="elevator.maintenance", residents=True)]
    lift = desk.service.replan().tasks[0]
    with pytest.raises(InvalidRequest, match="regulatory minimum"):
        desk.service.move(lift.id or 0, TODAY + timedelta(days=11), "busy", "zhao")
    assert desk.service.move(lift.id or 0, TODAY + timedelta(days=10), "busy", "zhao").status is _T.MOVED


def test_two_planners_deciding_the_same_task_one_gets_a_conflict(desk: Desk) -> None:
    first = desk.service.replan().tasks[0]
    assert first.id is not None
    desk.service.accept(first.id, "zhao", expected=_T.PROPOSED)
    with pytest.raises(Conflict):
        desk.service.reject(first.id, "not needed", "qian", expected=_T.PROPOSED)
    with pytest.raises(Conflict):
        desk.service.accept(first.id, "qian")
    assert desk.db.plans.get(first.id).decided_by == "zhao"


def test_completed_work_makes_the_task_done_and_the_desk_cancelling_it_rejects_it(desk: Desk) -> None:
    done, cancelled = desk.service.replan().tasks
    assert done.work_order_id is not None
    assert cancelled.work_order_id is not None
    desk.db.work_orders.change(done.work_order_id, WorkOrderStatus.REQUESTED, T0, "pia",
                               to_status=WorkOrderStatus.COMPLETED, completed_at=T0)
    desk.book.transition(cancelled.work_order_id, Step(WorkOrderStatus.CANCELLED, "desk", note="asset sold"))
    desk.service.sync_with_orders()
    assert desk.db.plans.get(done.id or 0).status is _T.DONE
    assert desk.db.plans.get(cancelled.id or 0).status is _T.REJECTED
    assert desk.db.plans.last_done() == {("pump.service", "p1"): T0}


def test_started_work_is_not_dropped_nor_planned_again(desk: Desk) -> None:
    first = desk.service.replan().tasks[0]
    assert first.work_order_id is not None
    desk.db.work_orders.change(first.work_order_id, WorkOrderStatus.REQUESTED, T0, "desk",
                               to_status=WorkOrderStatus.DISPATCHED, assignee="pia")
    desk.solver.answer = []
    run = desk.service.replan()
    assert (run.dropped, run.kept) == (1, 1)  # p2 dropped; p1 is being worked
    assert desk.db.plans.get(first.id or 0).status is _T.PROPOSED
    assert desk.solver.problems[-1].pinned[0].key == first.key


def test_work_that_affects_residents_gets_one_draft_notice_that_follows_moves(desk: Desk) -> None:
    desk.solver.answer = [task("e1", 10, 8, "tom", rule="elevator.maintenance", residents=True)]
    lift = desk.service.replan().tasks[0]
    desk.service.replan()
    notices = desk.board.list(site_id="north")
    assert [(n.work_order_id, n.status.value) for n in notices] == [(lift.work_order_id, "draft")]
    assert notices[0].starts_at == datetime(2026, 3, 10, 8, tzinfo=UTC)  # 08:00 on the planned day (UTC here)
    desk.board.publish(notices[0].id)
    desk.service.move(lift.id or 0, TODAY + timedelta(days=9), "tenants' meeting", "zhao")
    moved = desk.board.list(site_id="north")
    assert [(n.status.value, n.starts_at.day) for n in moved] == [("withdrawn", 10), ("draft", 11)]
    desk.service.reject(lift.id or 0, "lift replaced", "zhao")
    assert [n.status.value for n in desk.board.list(site_id="north")] == ["withdrawn", "withdrawn"]


def test_the_problem_holds_the_records_assets_and_forecast_shifted_to_today(desk: Desk) -> None:
    desk.service.replan()
    problem = desk.solver.problems[0]
    assert [a.asset_id for a in problem.assets] == ["e1", "p1", "p2"]
    assert problem.horizon.start == TODAY
    assert problem.horizon.days == 90
    assert {r.id for r in problem.rules} >= {"elevator.maintenance", "pump.service"}


def test_a_forecast_made_days_ago_counts_from_the_horizon_start() -> None:
    forecast = Forecast("p1", T0 - timedelta(days=4), 60.0, 40.0, "vibration", "trend", {"meter_value": 1000.0},
                        rul_p10_days=12.0, rul_p90_days=80.0, usage_unit="run_h", rul_p50_usage=800.0)
    state = asset_state(Asset("p1", "north", AssetKind.PUMP, "Pump 1"), forecast, Horizon(TODAY), {})
    assert (state.rul_p10_days, state.rul_p50_days, state.rul_p90_days) == (8.0, 36.0, 76.0)
    assert state.meters["run_h"].rate_per_day == 20.0
    assert state.meters["run_h"].value == 1080.0
    assert replace(forecast, rul_days=None).rul_days is None


def test_the_exports_hold_the_open_tasks_of_a_technician_or_a_site(desk: Desk) -> None:
    people = PeopleRecords(desk.db)
    people.users.upsert(User("pia", "Pia Chen"), T0)
    people.technicians.upsert(Technician("pia", frozenset({Skill.PLUMBER})))
    first = desk.service.replan().tasks[0]
    events = vobject.readOne(desk.service.technician_calendar("pia").decode()).vevent_list
    assert [e.summary.value for e in events] == ["Pump service: p1"]
    site = vobject.readOne(desk.service.site_calendar("north").decode())
    assert len(site.vevent_list) == 2
    assert site.x_wr_calname.value == "North Tower: maintenance plan"
    desk.service.reject(first.id or 0, "not needed", "zhao")
    assert desk.service.csv().decode().count("\n") == 2  # the header and p2
    with pytest.raises(NotFound):
        desk.service.technician_calendar("nobody")
    with pytest.raises(NotFound):
        desk.service.site_calendar("atlantis")


def test_with_the_real_solver_replanning_is_idempotent_and_follows_a_new_forecast(sqlite_db: Database) -> None:
    db = sqlite_db
    portfolio = default_portfolio()
    for site in portfolio.sites:
        db.assets.upsert_site(site)
    for asset in portfolio.assets:
        db.assets.upsert_asset(asset)
    clock = ManualClock(T0)
    people = PeopleRecords(db)
    people.install(load_roster(DEFAULT_ROSTER), TODAY, TODAY + timedelta(days=91), T0)
    book = WorkOrderBook(db, EventBus(), clock)
    tz = ZoneInfo("Asia/Shanghai")
    service = PlanningService(db, book, clock, ProblemBuilder(db, people, PlannerSetup.load(), tz), solve, tz=tz)
    runs = [service.replan() for _ in range(3)]
    assert runs[0].opened == len(runs[0].tasks) > 0
    assert [(r.opened, r.moved, r.dropped) for r in runs[1:]] == [(0, 0, 0), (0, 0, 0)]
    orders = db.work_orders.count()
    assert orders == len(runs[0].tasks)
    assert all(t.reasons for t in runs[0].tasks)
    pump = "riverside-pump-1"
    db.forecasts.add(Forecast(pump, T0, 20.0, 9.0, "vibration", "trend"))  # a bearing wearing out
    worn = service.replan()
    condition = [t for t in worn.tasks if t.asset_id == pump and t.rule_id == "pump.bearing_replacement"]
    assert len(condition) == 1
    assert condition[0].planned_date <= TODAY + timedelta(days=9)
    assert worn.opened == 1
    db.forecasts.add(Forecast(pump, T0 + timedelta(hours=1), 95.0, 900.0, "vibration", "trend"))  # a false alarm
    healed = service.replan()
    assert healed.dropped == 1
    assert db.plans.get(condition[0].id or 0).status is _T.DROPPED
    assert db.work_orders.count() == orders + 1  # the condition task's order, cancelled; nothing else


def test_two_planners_replanning_at_once_never_open_twin_orders(db: Database) -> None:
    desk = make_desk(db)
    other = PlanningService(db, desk.book, desk.clock, ProblemBuilder(db, PeopleRecords(db), PlannerSetup.load()),
                            desk.solver)  # another process: its own lock
    failures: list[Exception] = []

    def replan(service: PlanningService) -> None:
        for _ in range(2):
            try:
                service.replan()
            except Conflict as lost:  # the other one changed a task first: the next re-plan catches up
                failures.append(lost)

    threads = [threading.Thread(target=replan, args=(service,)) for service in (desk.service, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    tasks = desk.service.replan().tasks
    open_orders, _ = db.work_orders.page(WorkOrderFilter(source=WorkOrderSource.PLANNED, open_only=True), 500)
    assert len(tasks) == 2
    assert sorted(o.id for o in open_orders) == sorted(t.work_order_id for t in tasks)
