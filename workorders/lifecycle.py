"""The work-order lifecycle as a pure state machine: the closed loop of the service standard.

受理 requested → 派单 dispatched → 接单 accepted → 到场 on site → 维修 in progress (⇄ waiting) → 完工 completed
→ 验收 verified → 回访 followed up → 关闭 closed; cancelled (with a reason) from any open step.
"""

from __future__ import annotations

from core.domain import WorkOrderStatus
from core.errors import TransitionError

_S = WorkOrderStatus

ALLOWED: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    # A qualified technician may take a requested order directly (抢单): requested -> accepted.
    _S.REQUESTED: frozenset({_S.DISPATCHED, _S.ACCEPTED, _S.CANCELLED}),
    # Back to requested: the technician declined, or the dispatcher withdraws it to dispatch again.
    _S.DISPATCHED: frozenset({_S.ACCEPTED, _S.REQUESTED, _S.CANCELLED}),
    _S.ACCEPTED: frozenset({_S.ON_SITE, _S.REQUESTED, _S.CANCELLED}),
    _S.ON_SITE: frozenset({_S.IN_PROGRESS, _S.WAITING, _S.COMPLETED, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.WAITING, _S.COMPLETED, _S.CANCELLED}),
    _S.WAITING: frozenset({_S.IN_PROGRESS, _S.CANCELLED}),
    # Back to in progress: the requester's check failed, the fix did not hold.
    _S.COMPLETED: frozenset({_S.VERIFIED, _S.IN_PROGRESS}),
    # Straight to closed: nobody to call back (an alarm-born order the supervisor verified).
    _S.VERIFIED: frozenset({_S.FOLLOWED_UP, _S.CLOSED}),
    _S.FOLLOWED_UP: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def allowed(current: WorkOrderStatus) -> tuple[WorkOrderStatus, ...]:
    """Where a work order in ``current`` may go, in lifecycle order (the console's buttons)."""
    order = list(WorkOrderStatus)
    return tuple(sorted(ALLOWED[current], key=order.index))


def can_transition(current: WorkOrderStatus, requested: WorkOrderStatus) -> bool:
    return requested in ALLOWED[current]


def check_transition(current: WorkOrderStatus, requested: WorkOrderStatus) -> None:
    """Raise TransitionError, naming the allowed steps, unless ``current`` may go to ``requested``."""
    if not can_transition(current, requested):
        raise TransitionError("work order", current.value, requested.value,
                              tuple(status.value for status in allowed(current)))
