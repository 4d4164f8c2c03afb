"""The work-order lifecycle as a pure state machine, and the response deadline of each priority."""

from __future__ import annotations

from datetime import datetime

from core.domain import RESPONSE_TIME, WorkOrderPriority, WorkOrderStatus
from core.errors import TransitionError

_S = WorkOrderStatus

ALLOWED: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    _S.OPEN: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.CANCELLED}),
    _S.ASSIGNED: frozenset({_S.IN_PROGRESS, _S.OPEN, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.ON_HOLD, _S.COMPLETED, _S.CANCELLED}),
    _S.ON_HOLD: frozenset({_S.IN_PROGRESS, _S.CANCELLED}),
    _S.COMPLETED: frozenset({_S.CLOSED, _S.IN_PROGRESS}),  # back to IN_PROGRESS = reopen after a failed check
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def can_transition(current: WorkOrderStatus, requested: WorkOrderStatus) -> bool:
    return requested in ALLOWED[current]


def check_transition(current: WorkOrderStatus, requested: WorkOrderStatus) -> None:
    """Raise TransitionError unless the lifecycle allows going from ``current`` to ``requested``."""
    if not can_transition(current, requested):
        raise TransitionError("work order", current.value, requested.value)


def due_at(priority: WorkOrderPriority, opened_at: datetime) -> datetime:
    """When a technician must be on site: ``opened_at`` plus the priority's response time."""
    return opened_at + RESPONSE_TIME[priority]
