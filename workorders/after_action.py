"""The after-action record of an emergency run: what happened when, which steps were late, time to restore.

A pure function of the run, its order and the order's history (and the alarm that opened it), judged at
a time given as data: a step never done is late by the time from its due time to the run's end (or to
``at`` while the run goes on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import Alarm, WorkOrder, WorkOrderAction, WorkOrderEvent, WorkOrderStatus
from storage.records.emergency import EmergencyRun


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    what: str  # alarm raised, order opened, plan started, step 2 done, step 3 escalated, restored, ...
    actor: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class LateStep:
    position: int
    title: str
    role: str
    due_at: datetime
    done_at: datetime | None  # None: never done
    late_by: timedelta


@dataclass(frozen=True, slots=True)
class AfterAction:
    run: EmergencyRun
    timeline: tuple[TimelineEntry, ...]
    late_steps: tuple[LateStep, ...]
    steps_done: int
    time_to_restore: timedelta | None  # from the alarm (else the order's opening) to service restored


# At the same instant the causal order: the alarm, its order, the plan it started, ..., the plan's end.
_RANK = {"alarm raised": 0, "order opened": 1, "plan started": 2, "drill started": 2, "plan ended": 4,
         "drill ended": 4}


def late_steps(run: EmergencyRun, at: datetime) -> list[LateStep]:
    """Steps done after their due time, or not done by the run's end (``at`` while it goes on)."""
    until = run.ended_at or at
    late = []
    for step in run.steps:
        finished = step.done_at or until
        if finished > step.due_at:
            late.append(LateStep(step.position, step.title, step.role, step.due_at, step.done_at,
                                 finished - step.due_at))
    return late


def _last(history: Sequence[WorkOrderEvent], *statuses: WorkOrderStatus) -> WorkOrderEvent | None:
    matching = [e for e in history if e.action is WorkOrderAction.TRANSITION and e.to_status in statuses]
    return matching[-1] if matching else None


def _order_entries(order: WorkOrder, history: Sequence[WorkOrderEvent]) -> list[TimelineEntry]:
    opened = next((e for e in history if e.from_status is None), None)
    entries = [TimelineEntry(order.opened_at, "order opened", opened.actor if opened else None, order.title)]
    if order.restored_at is not None:
        restore = next((e for e in history if e.action is WorkOrderAction.RESTORE), None)
        restorer = restore or _last(history, WorkOrderStatus.COMPLETED)
        entries.append(TimelineEntry(order.restored_at, "restored", restorer.actor if restorer else None,
                                     restore.note if restore else ""))
    for what, at, statuses in (("completed", order.completed_at, (WorkOrderStatus.COMPLETED,)),
                               ("closed", order.closed_at, (WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED))):
        if at is not None:
            event = _last(history, *statuses)
            entries.append(TimelineEntry(at, what if event is None else event.to_status.value,
                                         event.actor if event else None, event.note if event else ""))
    return entries


def _run_entries(run: EmergencyRun) -> list[TimelineEntry]:
    entries = [TimelineEntry(run.started_at, "drill started" if run.drill else "plan started", run.started_by,
                             run.plan)]
    for step in run.steps:
        if step.escalated_at is not None:
            entries.append(TimelineEntry(step.escalated_at, f"step {step.position} escalated", "system",
                                         f"{step.title} ({step.role}) was due at {step.due_at.isoformat()}"))
        if step.done_at is not None:
            entries.append(TimelineEntry(step.done_at, f"step {step.position} done", step.done_by,
                                         f"{step.title}" + (f": {step.note}" if step.note else "")))
    if run.ended_at is not None:
        entries.append(TimelineEntry(run.ended_at, "drill ended" if run.drill else "plan ended"))
    return entries


def after_action(run: EmergencyRun, at: datetime, order: WorkOrder | None = None,
                 history: Sequence[WorkOrderEvent] = (), alarm: Alarm | None = None) -> AfterAction:
    """The after-action record of ``run`` as known at ``at``."""
    entries = _run_entries(run)
    if alarm is not None:
        entries.append(TimelineEntry(alarm.started_at, "alarm raised", "system", alarm.message))
    restore_time = None
    if order is not None:
        entries += _order_entries(order, history)
        if order.restored_at is not None:
            restore_time = order.restored_at - (alarm.started_at if alarm else order.opened_at)
    entries.sort(key=lambda e: (e.at, _RANK.get(e.what, 3)))
    return AfterAction(run, tuple(entries), tuple(late_steps(run, at)),
                       sum(step.done_at is not None for step in run.steps), restore_time)
