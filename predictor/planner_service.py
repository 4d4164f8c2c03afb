"""The plan in use: re-plans from the records, keeps planned work orders in step, and takes planners' reviews.

``replan`` runs the solver on what the records know (``predictor.plan_inputs``) and reconciles its answer
with the stored plan, by task key (rule, asset, due date):

- a new key is stored as proposed and gets a planned work order (source planned, ``plan-task:<id>``);
- a proposed task planned on another day or for another technician is moved, and its order follows
  (due at the end of the planned day; assignee while nobody has dispatched it yet);
- a proposed task the new plan no longer holds is dropped and its order cancelled with the reason;
- accepted and moved tasks are kept (the solver gets them as pinned), rejected keys never come back,
  and a task whose work has started is left to the people doing it.

So re-planning twice with the same facts changes nothing, and no task or order is ever opened twice (the
unique key of the tasks and a compare-and-set link to the order see to it). Work that takes something
away from residents gets the notice board's draft when its order opens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.domain import WorkOrder, WorkOrderAction, WorkOrderKind, WorkOrderPriority, WorkOrderSource
from core.domain import WorkOrderStatus as WoStatus
from core.errors import InvalidRequest, NotFound
from core.plans import Plan, PlanTask, PlanTaskStatus
from core.settings import PlannerSettings
from people.records import PeopleRecords
from predictor.plan_exports import plan_calendar, plan_csv
from predictor.plan_inputs import PlannerSetup, ProblemBuilder
from predictor.planning.problem import Horizon, Problem, Solution, TaskKey, Unplaced
from predictor.planning.solver import solve
from storage.records import Database
from storage.records.plans import TaskFilter
from workorders.book import Step, WorkOrderBook
from workorders.notice_board import NoticeBoard
from workorders.notice_records import NoticeFilter
from workorders.notices import NoticeStatus, Window
from workorders.sla import SlaPolicy

log = logging.getLogger(__name__)
_T = PlanTaskStatus
Solver = Callable[[Problem, float], Solution]
OPEN = (_T.PROPOSED, _T.ACCEPTED, _T.MOVED)  # tasks whose work is still ahead
DONE_ORDER = frozenset({WoStatus.COMPLETED, WoStatus.VERIFIED, WoStatus.FOLLOWED_UP, WoStatus.CLOSED})
# The review steps and the task statuses each starts from.
ACCEPT_FROM = (_T.PROPOSED,)
MOVE_FROM = (_T.PROPOSED, _T.ACCEPTED, _T.MOVED)
REJECT_FROM = (_T.PROPOSED, _T.ACCEPTED, _T.MOVED)
NOTICE_HOURS = (time(8), time(18))  # the window a resident notice announces on the planned day (local)


def order_ref(task: PlanTask) -> str:
    """The planned work order's ``source_ref``: the task's stable id."""
    return f"plan-task:{task.id}"


@dataclass(frozen=True, slots=True)
class PlanRun:
    """One re-plan: the stored plan, its tasks as stored, and what the reconciliation did."""

    plan: Plan
    tasks: list[PlanTask]
    opened: int  # planned work orders opened
    moved: int  # proposed tasks moved to another day or technician
    dropped: int  # proposed tasks no longer needed (their orders cancelled)
    kept: int  # accepted, moved or started tasks kept as they are
    unplaced: tuple[Unplaced, ...] = ()  # what the solver could not put on any day, and why


class PlanningService:
    """The plan's one owner: re-planning, review and exports (one re-plan at a time in this process)."""

    def __init__(self, db: Database, book: WorkOrderBook, clock: Clock, problems: ProblemBuilder, solver: Solver, *,
                 notices: NoticeBoard | None = None, horizon_days: int = 90, time_limit_s: float = 5.0,
                 tz: tzinfo = UTC) -> None:
        self._db = db
        self._book = book
        self._clock = clock
        self._problems = problems
        self._solver = solver
        self._notices = notices
        self.horizon_days = horizon_days
        self._time_limit_s = time_limit_s
        self._tz = tz  # the sites' local time zone: what "a day" means
        self._replanning = threading.Lock()  # the API, the schedule and the forecasts may ask at once

    # --- re-planning ---------------------------------------------------------------------------------

    def replan(self, actor: str = "planner", horizon_days: int | None = None) -> PlanRun:
        """Plan the next ``horizon_days`` (default: the configured horizon) and bring the stored plan and
        its work orders in step with it."""
        with self._replanning:
            return self._replan(actor, horizon_days or self.horizon_days)

    def _replan(self, actor: str, horizon_days: int) -> PlanRun:
        self.sync_with_orders()
        now = self._clock.now()
        horizon = Horizon(now.astimezone(self._tz).date(), horizon_days)
        stored = self._db.plans.tasks(TaskFilter(statuses=OPEN))
        started = {t.key for t in stored if t.status is _T.PROPOSED and self._started(t)}
        pinned = [t for t in stored if t.status.is_pinned or t.key in started]
        proposed = {t.key: t for t in stored if t.status is _T.PROPOSED and t.key not in started}
        rejected = frozenset(t.key for t in self._db.plans.tasks(TaskFilter(statuses=[_T.REJECTED])))
        problem = self._problems.build(horizon, pinned, rejected, list(proposed.values()))
        solution = self._solver(problem, self._time_limit_s)
        plan = self._db.plans.add(Plan(None, now, actor, horizon.start, horizon.end, solution.status,
                                       solution.expected_cost, dict(solution.stats)))
        assert plan.id is not None
        fresh = [t for t in solution.tasks if t.key not in rejected and t.key not in {p.key for p in pinned}]
        opened, moved, dropped = self._reconcile(plan.id, fresh, proposed, horizon, actor)
        for missed in solution.unplaced:
            if missed.regulatory:  # a legal minimum nobody can do in time: people must act
                log.warning("plan %s: regulatory %s on %s due %s not placed: %s", plan.id, missed.rule_id,
                            missed.asset_id, missed.due_date, missed.reason)
        run = PlanRun(plan, self._db.plans.tasks(TaskFilter(statuses=OPEN)), opened, moved, dropped, len(pinned),
                      solution.unplaced)
        log.info("plan %s (%s): %d open tasks, %d orders opened, %d moved, %d dropped, %d kept", plan.id,
                 plan.status.value, len(run.tasks), opened, moved, dropped, len(pinned))
        return run

    def _reconcile(self, plan_id: int, fresh: list[PlanTask], proposed: dict[TaskKey, PlanTask], horizon: Horizon,
                   actor: str) -> tuple[int, int, int]:
        """Store the new plan's tasks by key and bring their orders in step; drop the proposals it no longer
        holds. How many orders were opened, tasks moved and tasks dropped."""
        upserted = self._db.plans.upsert_tasks(plan_id, fresh)
        opened = moved = 0
        for task in upserted:
            if task.status is _T.PROPOSED:
                before = proposed.get(task.key)
                moved += before is not None and (before.planned_date, before.technician_id) != (
                    task.planned_date, task.technician_id)
                opened += self._keep_order(task, actor)
        # Missing from the new plan, and due within its horizon (a shorter horizon says nothing of the rest).
        held = {t.key for t in upserted}
        gone = [t for key, t in proposed.items() if key not in held and t.due_date <= horizon.end]
        for task in gone:
            self._drop(task, actor)
        return opened, moved, len(gone)

    def sync_with_orders(self) -> None:
        """Tasks whose order was completed are done; tasks whose order the desk cancelled are rejected."""
        for task in self._db.plans.tasks(TaskFilter(statuses=OPEN)):
            order = self._order(task)
            if order is None:
                continue
            if order.status in DONE_ORDER:
                self._db.plans.change(self._id(task), [task.status], status=_T.DONE)
            elif order.status is WoStatus.CANCELLED:
                self._db.plans.change(self._id(task), [task.status], status=_T.REJECTED,
                                      move_reason=f"its work order {order.id} was cancelled at the desk",
                                      decided_at=order.closed_at)

    def _started(self, task: PlanTask) -> bool:
        """Someone is on it: its order left ``requested`` (dispatched, accepted, on site ...)."""
        order = self._order(task)
        return order is not None and order.status is not WoStatus.REQUESTED and not order.status.is_terminal

    def _drop(self, task: PlanTask, actor: str) -> None:
        self._db.plans.change(self._id(task), [_T.PROPOSED], status=_T.DROPPED)
        self._cancel(task, actor, "the new plan no longer needs this task (newer forecast or schedule)")

    # --- review --------------------------------------------------------------------------------------

    def accept(self, task_id: int, actor: str, expected: PlanTaskStatus | None = None) -> PlanTask:
        """Accept a proposal: re-planning keeps its day and technician from now on."""
        task = self._db.plans.change(task_id, _expected(expected, ACCEPT_FROM, "accepted"), status=_T.ACCEPTED,
                                     decided_by=actor, decided_at=self._clock.now())
        self._keep_order(task, actor)
        return self._db.plans.get(task_id)

    def move(self, task_id: int, day: date, reason: str, actor: str, technician_id: str | None = None,
             expected: PlanTaskStatus | None = None) -> PlanTask:
        """Move a task to ``day`` (and another technician, if given), for ``reason``; its order follows."""
        if not reason.strip():
            raise InvalidRequest("a move needs a reason")
        if day < self._clock.now().astimezone(self._tz).date():
            raise InvalidRequest(f"cannot move a task into the past ({day.isoformat()})")
        current = self._db.plans.get(task_id)
        if day > current.due_date and self._problems.is_regulatory(current.rule_id):
            raise InvalidRequest(f"{current.rule_id} is a regulatory minimum: the task must be done by "
                                 f"{current.due_date.isoformat()}, not moved to {day.isoformat()}")
        task = self._db.plans.change(task_id, _expected(expected, MOVE_FROM, "moved"), status=_T.MOVED,
                                     planned_date=day, technician_id=technician_id or current.technician_id,
                                     move_reason=reason.strip(), decided_by=actor, decided_at=self._clock.now())
        self._keep_order(task, actor, note=f"moved to {day.isoformat()}: {reason.strip()}")
        return self._db.plans.get(task_id)

    def reject(self, task_id: int, reason: str, actor: str, expected: PlanTaskStatus | None = None) -> PlanTask:
        """Reject a task for ``reason``: its order is cancelled and its key is never proposed again."""
        if not reason.strip():
            raise InvalidRequest("a rejection needs a reason")
        task = self._db.plans.change(task_id, _expected(expected, REJECT_FROM, "rejected"), status=_T.REJECTED,
                                     move_reason=reason.strip(), decided_by=actor, decided_at=self._clock.now())
        self._cancel(task, actor, f"plan task rejected: {reason.strip()}")
        return self._db.plans.get(task_id)

    # --- reading and exporting ----------------------------------------------------------------------

    def latest(self) -> Plan | None:
        return self._db.plans.latest()

    def get(self, task_id: int) -> PlanTask:
        return self._db.plans.get(task_id)

    def technician_calendar(self, user_id: str) -> bytes:
        """The open tasks of technician ``user_id`` as an iCalendar (NotFound for an unknown technician)."""
        if not self._problems.knows_technician(user_id):
            raise NotFound(f"technician {user_id!r} not found")
        tasks = self._db.plans.tasks(TaskFilter(statuses=OPEN, technician_id=user_id))
        return plan_calendar(f"{user_id}: maintenance plan", tasks, self._stamp())

    def site_calendar(self, site_id: str) -> bytes:
        """The open tasks at ``site_id`` as an iCalendar (NotFound for an unknown site)."""
        site = next((s for s in self._db.assets.sites() if s.id == site_id), None)
        if site is None:
            raise NotFound(f"site {site_id!r} not found")
        tasks = self._db.plans.tasks(TaskFilter(statuses=OPEN, site_id=site_id))
        return plan_calendar(f"{site.name}: maintenance plan", tasks, self._stamp())

    def csv(self, where: TaskFilter | None = None) -> bytes:
        """The tasks matching ``where`` (default: the open ones) as CSV, with their explanations."""
        return plan_csv(self._db.plans.tasks(where or TaskFilter(statuses=OPEN)))

    def _stamp(self) -> datetime:
        latest = self._db.plans.latest()
        return self._clock.now() if latest is None else latest.created_at

    # --- the planned work orders ---------------------------------------------------------------------

    def _keep_order(self, task: PlanTask, actor: str, note: str = "") -> bool:
        """Give ``task`` its open planned order, or make its order follow its day and technician; whether
        an order was opened."""
        order = self._order(task)
        if order is not None and not order.status.is_terminal:
            if self._follow(order, task, actor, note or f"plan: {task.planned_date.isoformat()}") and (
                    task.affects_residents):
                self._withdraw_notices(order.id, task.site_id)  # the old day's notice: draft it anew
                self._draft_notice(order.id, task, actor)
            return False
        existing = self._db.plans.open_order_for(order_ref(task))  # opened before a crash kept it unlinked
        if existing is not None:
            order, opened = self._db.work_orders.get(existing), False
        else:
            order, opened = self._book.open(
                WorkOrderKind.PREVENTIVE, WorkOrderPriority.PLANNED, task.task, task.site_id, task.asset_id,
                task.explanation, actor=actor, source=WorkOrderSource.PLANNED, source_ref=order_ref(task),
                assignee=task.technician_id)
        if not self._db.plans.link_work_order(self._id(task), order.id, replaces=task.work_order_id):
            if opened:  # another re-plan linked its order first: this one is a twin
                self._book.transition(order.id, Step(WoStatus.CANCELLED, actor, note="duplicate planned order"))
            return False
        self._follow(order, task, actor, f"plan: {task.planned_date.isoformat()}")
        if opened and task.affects_residents:
            self._draft_notice(order.id, task, actor)
        return opened

    def _follow(self, order: WorkOrder, task: PlanTask, actor: str, note: str) -> bool:
        """The order is due at the end of the planned day, with the planned technician until dispatched;
        whether its day changed."""
        fields: dict[str, object] = {}
        due_at = self._day_end(task.planned_date)
        if order.due_at != due_at:
            fields["due_at"] = due_at
        if order.status is WoStatus.REQUESTED and order.assignee != task.technician_id:
            fields["assignee"] = task.technician_id
        if fields:
            self._book.record(order.id, WorkOrderAction.ASSIGN, actor, note, data={"plan_task": task.id}, **fields)
        return "due_at" in fields

    def _cancel(self, task: PlanTask, actor: str, reason: str) -> None:
        order = self._order(task)
        if order is not None and not order.status.is_terminal:
            self._book.transition(order.id, Step(WoStatus.CANCELLED, actor, note=reason))
            self._withdraw_notices(order.id, task.site_id)

    def _withdraw_notices(self, order_id: int, site_id: str) -> None:
        """Withdraw the upcoming notices (draft or published) about a planned order that moved or went."""
        if self._notices is None:
            return
        upcoming = self._notices.records.list(NoticeFilter(site_id=site_id, ends_after=self._clock.now()))
        for notice in upcoming:
            if notice.work_order_id == order_id and notice.status is not NoticeStatus.WITHDRAWN:
                self._notices.withdraw(notice.id)

    def _draft_notice(self, order_id: int, task: PlanTask, actor: str) -> None:
        if self._notices is None:
            return
        day = task.planned_date
        window = Window(datetime.combine(day, NOTICE_HOURS[0], self._tz).astimezone(UTC),
                        datetime.combine(day, NOTICE_HOURS[1], self._tz).astimezone(UTC))
        self._notices.draft_from_order(order_id, window, actor)

    def _order(self, task: PlanTask) -> WorkOrder | None:
        return None if task.work_order_id is None else self._db.work_orders.get(task.work_order_id)

    def _day_end(self, day: date) -> datetime:
        return datetime.combine(day + timedelta(days=1), time(), self._tz).astimezone(UTC)

    @staticmethod
    def _id(task: PlanTask) -> int:
        assert task.id is not None, "a stored task has an id"
        return task.id


def planning_service(db: Database, book: WorkOrderBook, clock: Clock, people: PeopleRecords, sla: SlaPolicy,
                     settings: PlannerSettings, notices: NoticeBoard | None = None) -> PlanningService:
    """The service as configured: packaged (or the portfolio's) rules and costs, the desk's calendars and
    their time zone, the HiGHS solver."""
    setup = PlannerSetup.load(sla, settings.rules_file, settings.costs_file)
    tz = ZoneInfo(sla.calendar.time_zone)
    return PlanningService(db, book, clock, ProblemBuilder(db, people, setup, tz), solve, notices=notices,
                           horizon_days=settings.horizon_days, time_limit_s=settings.time_limit_s, tz=tz)


def _expected(given: PlanTaskStatus | None, allowed: tuple[PlanTaskStatus, ...], step: str) -> list[PlanTaskStatus]:
    """The statuses the compare-and-set expects: the one the caller read (a stale read is a Conflict),
    else any the step may start from."""
    if given is None:
        return list(allowed)
    if given not in allowed:
        raise InvalidRequest(f"a {given.value} task cannot be {step}; only "
                             + ", ".join(s.value for s in allowed))
    return [given]
