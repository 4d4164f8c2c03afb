"""Emergency plans being worked (应急预案): runs and their steps, checked off and escalated.

The database keeps the promises: one run per emergency order (a unique ``work_order_id``, so an event
delivered twice starts the plan once), a step checked off once, and a late step escalated once (a
compare-and-set on ``escalated_at``, so two checkers racing never page twice).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound
from storage.records.models import EmergencyRunRow, EmergencyStepRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row


@dataclass(frozen=True)
class RunFilter:
    """Which runs a list shows: ``active`` True only runs not ended, False only ended ones, None both."""
    site_id: str | None = None
    active: bool | None = None
    work_order_id: int | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.site_id is not None:
            query = query.where(EmergencyRunRow.site_id == self.site_id)
        if self.active is not None:
            ended = EmergencyRunRow.ended_at
            query = query.where(ended.is_(None) if self.active else ended.is_not(None))
        if self.work_order_id is not None:
            query = query.where(EmergencyRunRow.work_order_id == self.work_order_id)
        return query


@dataclass(frozen=True, slots=True)
class EmergencyStep:
    """One step of a run: what, who (role), by when, and when it was done, by whom."""

    position: int  # 1, 2, ... in plan order
    title: str
    role: str
    due_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    note: str = ""
    escalated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EmergencyRun:
    """A plan started for an emergency order (or as a drill, without one)."""

    id: int
    plan: str
    site_id: str
    work_order_id: int | None
    drill: bool
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    steps: tuple[EmergencyStep, ...] = ()

    def step(self, position: int) -> EmergencyStep:
        for step in self.steps:
            if step.position == position:
                return step
        raise NotFound(f"emergency run {self.id} has no step {position}")


def _step(row: EmergencyStepRow) -> EmergencyStep:
    return EmergencyStep(row.position, row.title, row.role, row.due_at, row.done_at, row.done_by, row.note,
                         row.escalated_at)


def _run(session: Session, row: EmergencyRunRow) -> EmergencyRun:
    steps = session.scalars(select(EmergencyStepRow).where(EmergencyStepRow.run_id == row.id)
                            .order_by(EmergencyStepRow.position))
    return EmergencyRun(row.id, row.plan, row.site_id, row.work_order_id, row.drill, row.started_at,
                        row.started_by, row.ended_at, tuple(_step(s) for s in steps))


class EmergencyRunRepository(Repository):
    def start(self, plan: str, site_id: str, started_at: datetime, started_by: str,
              steps: Sequence[tuple[str, str, datetime]], work_order_id: int | None = None,
              drill: bool = False) -> tuple[EmergencyRun, bool]:
        """Store a run with its ``(title, role, due_at)`` steps; ``(existing, False)`` if the work order
        already has one."""
        try:
            with self._transaction() as session:
                row = EmergencyRunRow(plan=plan, site_id=site_id, work_order_id=work_order_id, drill=drill,
                                      started_at=started_at, started_by=started_by)
                session.add(row)
                session.flush()
                session.add_all(EmergencyStepRow(run_id=row.id, position=position, title=title, role=role,
                                                 due_at=due_at, note="")
                                for position, (title, role, due_at) in enumerate(steps, start=1))
                session.flush()
                return _run(session, row), True
        except IntegrityError:
            existing = None if work_order_id is None else self.for_work_order(work_order_id)
            if existing is None:
                raise
            return existing, False

    def get(self, run_id: int) -> EmergencyRun:
        with self._transaction() as session:
            return _run(session, get_row(session, EmergencyRunRow, run_id, "emergency run"))

    def for_work_order(self, work_order_id: int) -> EmergencyRun | None:
        with self._transaction() as session:
            row = session.scalars(select(EmergencyRunRow)
                                  .where(EmergencyRunRow.work_order_id == work_order_id)).one_or_none()
            return None if row is None else _run(session, row)

    def list(self, site_id: str | None = None, active: bool | None = None, work_order_id: int | None = None,
             limit: int = 200) -> builtins.list[EmergencyRun]:
        """Newest first; ``active``: True only runs not ended, False only ended ones, None both."""
        return self.page(RunFilter(site_id, active, work_order_id), limit)[0]

    def page(self, where: RunFilter, limit: int = 50, after: tuple[datetime, int] | None = None,
             ) -> tuple[builtins.list[EmergencyRun], tuple[datetime, int] | None]:
        """Newest first (started, then id), ``limit`` at most after the cursor ``after``; the cursor of the
        next page (None on the last)."""
        query = keyset(where.apply(select(EmergencyRunRow)), EmergencyRunRow.started_at, EmergencyRunRow.id, limit,
                       after, newest_first=True)
        with self._reading() as session:
            runs = [_run(session, row) for row in session.scalars(query)]
        return split(runs, limit, lambda run: (run.started_at, run.id))

    def total(self, where: RunFilter) -> int:
        with self._reading() as session:
            return session.scalar(where.apply(select(func.count()).select_from(EmergencyRunRow))) or 0

    def check_off(self, run_id: int, position: int, at: datetime, actor: str, note: str = "") -> EmergencyRun:
        """Mark a step done by ``actor`` at ``at``; Conflict if it was done already or the run ended."""
        with self._transaction() as session:
            run = get_row(session, EmergencyRunRow, run_id, "emergency run")
            if run.ended_at is not None:
                raise Conflict(f"emergency run {run_id} ended at {run.ended_at.isoformat()}")
            step = session.scalars(select(EmergencyStepRow).where(EmergencyStepRow.run_id == run_id,
                                                                  EmergencyStepRow.position == position)
                                   .with_for_update()).one_or_none()
            if step is None:
                raise NotFound(f"emergency run {run_id} has no step {position}")
            if step.done_at is not None:
                raise Conflict(f"step {position} of emergency run {run_id} was done by {step.done_by} "
                               f"at {step.done_at.isoformat()}")
            step.done_at, step.done_by, step.note = at, actor, note
            session.flush()
            return _run(session, run)

    def late(self, at: datetime) -> builtins.list[tuple[EmergencyRun, EmergencyStep]]:
        """Steps of runs not ended, not done, due before ``at`` and not escalated yet, oldest due first."""
        query = (select(EmergencyStepRow.run_id, EmergencyStepRow.position)
                 .join(EmergencyRunRow, EmergencyRunRow.id == EmergencyStepRow.run_id)
                 .where(EmergencyRunRow.ended_at.is_(None), EmergencyStepRow.done_at.is_(None),
                        EmergencyStepRow.escalated_at.is_(None), EmergencyStepRow.due_at < at)
                 .order_by(EmergencyStepRow.due_at, EmergencyStepRow.id))
        with self._transaction() as session:
            keys = [(run_id, position) for run_id, position in session.execute(query)]
        runs = {run_id: self.get(run_id) for run_id in {run_id for run_id, _ in keys}}
        return [(runs[run_id], runs[run_id].step(position)) for run_id, position in keys]

    def mark_escalated(self, run_id: int, position: int, at: datetime) -> bool:
        """Stamp ``escalated_at`` unless a step already has it: True for the one caller that stamped it."""
        with self._transaction() as session:
            result = session.execute(update(EmergencyStepRow)
                                     .where(EmergencyStepRow.run_id == run_id, EmergencyStepRow.position == position,
                                            EmergencyStepRow.escalated_at.is_(None))
                                     .values(escalated_at=at).execution_options(synchronize_session=False))
            marked: bool = result.rowcount == 1  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
            return marked

    def end(self, run_id: int, at: datetime) -> tuple[EmergencyRun, bool]:
        """Stamp ``ended_at`` once; ``(run, False)`` if it had ended already (its first end is kept)."""
        with self._transaction() as session:
            row = get_row(session, EmergencyRunRow, run_id, "emergency run")
            result = session.execute(update(EmergencyRunRow)
                                     .where(EmergencyRunRow.id == run_id, EmergencyRunRow.ended_at.is_(None))
                                     .values(ended_at=at).execution_options(synchronize_session=False))
            ended = result.rowcount == 1  # type: ignore[attr-defined]
            session.refresh(row)
            return _run(session, row), ended
