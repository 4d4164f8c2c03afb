"""Plans and their tasks, one row per (rule, asset, due date).

The database keeps re-planning honest: a task is upserted by its key (``INSERT ... ON CONFLICT DO
UPDATE``, the unique constraint of migration 0006), and the update only touches tasks no person has
decided on (proposed or dropped), so a re-plan never overwrites an accepted, moved or rejected task and
never adds a twin. Every review step is a compare-and-set on the task's status: of two planners deciding
the same task at once, one wins and the other gets ``Conflict``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.domain import WorkOrderSource, WorkOrderStatus
from core.errors import Conflict
from core.plans import Plan, PlanTask, PlanTaskStatus, SolveStatus
from storage.records.models import PlanRow, PlanTaskRow, WorkOrderRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row

# What a re-plan may still change: tasks nobody decided on. The rest keep what people (or work) decided.
REPLANNABLE = (PlanTaskStatus.PROPOSED.value, PlanTaskStatus.DROPPED.value)
# The columns a re-plan sets on a task it finds by key.
_PLANNED_COLUMNS = ("plan_id", "site_id", "planned_date", "technician_id", "task", "hours", "planned_cost",
                    "expected_failure_cost", "reasons", "affects_residents", "status")
_OPEN_ORDER = [s.value for s in WorkOrderStatus if not s.is_terminal]
_CHUNK = 500  # rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits

Cursor = tuple[date, int]  # (planned_date, id) of the last task of the previous page


def _plan(row: PlanRow) -> Plan:
    return Plan(row.id, row.created_at, row.created_by, row.horizon_start, row.horizon_end, SolveStatus(row.status),
                row.expected_cost, {key: float(value) for key, value in (row.stats or {}).items()})


def task_from_row(row: PlanTaskRow) -> PlanTask:
    return PlanTask(
        rule_id=row.rule_id, asset_id=row.asset_id, site_id=row.site_id, due_date=row.due_date,
        planned_date=row.planned_date, technician_id=row.technician_id, task=row.task, hours=row.hours,
        planned_cost=row.planned_cost, expected_failure_cost=row.expected_failure_cost,
        reasons=tuple(row.reasons or ()), affects_residents=row.affects_residents,
        status=PlanTaskStatus(row.status), plan_id=row.plan_id, work_order_id=row.work_order_id,
        move_reason=row.move_reason, decided_by=row.decided_by, decided_at=row.decided_at, id=row.id)


def _task_values(plan_id: int, task: PlanTask) -> dict[str, Any]:
    return {"plan_id": plan_id, "rule_id": task.rule_id, "asset_id": task.asset_id, "site_id": task.site_id,
            "due_date": task.due_date, "planned_date": task.planned_date, "technician_id": task.technician_id,
            "task": task.task, "hours": task.hours, "planned_cost": task.planned_cost,
            "expected_failure_cost": task.expected_failure_cost, "reasons": list(task.reasons),
            "affects_residents": task.affects_residents, "status": PlanTaskStatus.PROPOSED.value,
            "move_reason": ""}


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What a list of plan tasks is narrowed to; every field optional. Days are inclusive."""

    statuses: Sequence[PlanTaskStatus] = ()
    site_id: str | None = None
    asset_id: str | None = None
    technician_id: str | None = None
    since: date | None = None  # planned on or after
    until: date | None = None  # planned on or before

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions: list[Any] = []
        if self.statuses:
            conditions.append(PlanTaskRow.status.in_([s.value for s in self.statuses]))
        for column, value in ((PlanTaskRow.site_id, self.site_id), (PlanTaskRow.asset_id, self.asset_id),
                              (PlanTaskRow.technician_id, self.technician_id)):
            if value is not None:
                conditions.append(column == value)
        if self.since is not None:
            conditions.append(PlanTaskRow.planned_date >= self.since)
        if self.until is not None:
            conditions.append(PlanTaskRow.planned_date <= self.until)
        return query.where(and_(*conditions)) if conditions else query


class PlanRepository(Repository):
    def add(self, plan: Plan) -> Plan:
        """Store one run of the planner; the stored plan with its id."""
        with self._transaction() as session:
            row = PlanRow(created_at=plan.created_at, created_by=plan.created_by, horizon_start=plan.horizon_start,
                          horizon_end=plan.horizon_end, status=plan.status.value, expected_cost=plan.expected_cost,
                          stats=dict(plan.stats))
            session.add(row)
            session.flush()
            return _plan(row)

    def latest(self) -> Plan | None:
        """The newest plan (None before the first)."""
        query = select(PlanRow).order_by(PlanRow.created_at.desc(), PlanRow.id.desc()).limit(1)
        with self._transaction() as session:
            row = session.scalars(query).first()
            return None if row is None else _plan(row)

    def upsert_tasks(self, plan_id: int, tasks: Iterable[PlanTask]) -> builtins.list[PlanTask]:
        """Store ``tasks`` of plan ``plan_id`` by key, in one transaction: a new key is inserted (proposed);
        a stored proposed or dropped task is updated (proposed again); a task a person decided on, or whose
        work is done, stays as it is. Returns the stored task of every given key, in the given order."""
        values = [_task_values(plan_id, task) for task in tasks]
        keys = [(v["rule_id"], v["asset_id"], v["due_date"]) for v in values]
        with self._transaction() as session:
            for start in range(0, len(values), _CHUNK):
                session.execute(self._upsert(session, values[start:start + _CHUNK]))
            stored = {row.key: row for row in self._by_keys(session, keys)}
            return [stored[key] for key in keys]

    @staticmethod
    def _upsert(session: Session, rows: builtins.list[dict[str, Any]]) -> Any:
        """INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE the stored task is still re-plannable."""
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(PlanTaskRow).values(rows)
        return statement.on_conflict_do_update(
            index_elements=[PlanTaskRow.rule_id, PlanTaskRow.asset_id, PlanTaskRow.due_date],
            set_={name: statement.excluded[name] for name in _PLANNED_COLUMNS},
            where=PlanTaskRow.status.in_(REPLANNABLE))

    @staticmethod
    def _by_keys(session: Session, keys: Sequence[tuple[str, str, date]]) -> builtins.list[PlanTask]:
        found: builtins.list[PlanTask] = []
        key = tuple_(PlanTaskRow.rule_id, PlanTaskRow.asset_id, PlanTaskRow.due_date)
        for start in range(0, len(keys), _CHUNK):
            rows = session.scalars(select(PlanTaskRow).where(key.in_(keys[start:start + _CHUNK])))
            found.extend(task_from_row(row) for row in rows)
        return found

    def get(self, task_id: int) -> PlanTask:
        with self._transaction() as session:
            return task_from_row(get_row(session, PlanTaskRow, task_id, "plan task"))

    def tasks(self, where: TaskFilter) -> builtins.list[PlanTask]:
        """Every task matching ``where``, by planned day, then id (unbounded: for re-planning and exports)."""
        query = where.apply(select(PlanTaskRow)).order_by(PlanTaskRow.planned_date, PlanTaskRow.id)
        with self._transaction() as session:
            return [task_from_row(row) for row in session.scalars(query)]

    def page(self, where: TaskFilter, limit: int = 50,
             after: Cursor | None = None) -> tuple[builtins.list[PlanTask], Cursor | None]:
        """One page of tasks by planned day, then id, and the cursor of the next page (None on the last)."""
        query = keyset(where.apply(select(PlanTaskRow)), PlanTaskRow.planned_date, PlanTaskRow.id, limit, after,
                       newest_first=False)
        with self._transaction() as session:
            tasks = [task_from_row(row) for row in session.scalars(query)]
        return split(tasks, limit, lambda task: (task.planned_date, task.id or 0))  # stored tasks have ids

    def total(self, where: TaskFilter) -> int:
        with self._transaction() as session:
            return session.scalar(where.apply(select(func.count()).select_from(PlanTaskRow))) or 0

    def change(self, task_id: int, expected: Sequence[PlanTaskStatus], **fields: Any) -> PlanTask:
        """Set ``fields`` (status as PlanTaskStatus) if the task is still in one of ``expected``: a
        compare-and-set. Conflict if someone changed it first; NotFound for an unknown task."""
        values = {name: value.value if isinstance(value, PlanTaskStatus) else value for name, value in fields.items()}
        guard = [PlanTaskRow.id == task_id, PlanTaskRow.status.in_([s.value for s in expected])]
        with self._transaction() as session:
            changed = session.execute(update(PlanTaskRow).where(*guard).values(values)
                                      .returning(PlanTaskRow.id).execution_options(synchronize_session=False))
            if changed.first() is None:
                current = get_row(session, PlanTaskRow, task_id, "plan task")
                raise Conflict(f"plan task {task_id} is {current.status!r}, not "
                               + " or ".join(repr(s.value) for s in expected) + ": someone changed it meanwhile")
            return task_from_row(get_row(session, PlanTaskRow, task_id, "plan task"))

    def link_work_order(self, task_id: int, work_order_id: int, replaces: int | None) -> bool:
        """Link the task to its planned work order if it still links ``replaces`` (None: no order, or a
        cancelled one being replaced); False if another re-plan linked one first."""
        current = PlanTaskRow.work_order_id
        guard = current.is_(None) if replaces is None else current == replaces
        with self._transaction() as session:
            done = session.execute(update(PlanTaskRow).where(PlanTaskRow.id == task_id, guard)
                                   .values(work_order_id=work_order_id).returning(PlanTaskRow.id)
                                   .execution_options(synchronize_session=False)).first()
            return done is not None

    def last_done(self) -> dict[tuple[str, str], datetime]:
        """When each (rule, asset) was last done: the newest completion of a done task's work order."""
        query = (select(PlanTaskRow.rule_id, PlanTaskRow.asset_id, func.max(WorkOrderRow.completed_at))
                 .join(WorkOrderRow, WorkOrderRow.id == PlanTaskRow.work_order_id)
                 .where(PlanTaskRow.status == PlanTaskStatus.DONE.value, WorkOrderRow.completed_at.is_not(None))
                 .group_by(PlanTaskRow.rule_id, PlanTaskRow.asset_id))
        with self._transaction() as session:
            return {(rule, asset): at for rule, asset, at in session.execute(query) if at is not None}

    def open_order_for(self, source_ref: str) -> int | None:
        """The newest open planned work order with ``source_ref`` (one opened before a crash kept it from
        being linked), so that it is linked rather than opened twice."""
        query = (select(WorkOrderRow.id).where(WorkOrderRow.source == WorkOrderSource.PLANNED.value,
                                               WorkOrderRow.source_ref == source_ref,
                                               WorkOrderRow.status.in_(_OPEN_ORDER))
                 .order_by(WorkOrderRow.id.desc()).limit(1))
        with self._transaction() as session:
            return session.scalar(query)
