"""The work-order lifecycle state machine and response deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import WorkOrderPriority, WorkOrderStatus
from core.errors import TransitionError
from workorders.lifecycle import ALLOWED, can_transition, check_transition, due_at

S = WorkOrderStatus

EXPECTED = {
    (S.OPEN, S.ASSIGNED), (S.OPEN, S.IN_PROGRESS), (S.OPEN, S.CANCELLED),
    (S.ASSIGNED, S.IN_PROGRESS), (S.ASSIGNED, S.OPEN), (S.ASSIGNED, S.CANCELLED),
    (S.IN_PROGRESS, S.ON_HOLD), (S.IN_PROGRESS, S.COMPLETED), (S.IN_PROGRESS, S.CANCELLED),
    (S.ON_HOLD, S.IN_PROGRESS), (S.ON_HOLD, S.CANCELLED),
    (S.COMPLETED, S.CLOSED), (S.COMPLETED, S.IN_PROGRESS),
}


def test_allowed_table_is_exactly_the_documented_lifecycle() -> None:
    assert set(ALLOWED) == set(S)
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == EXPECTED


@pytest.mark.parametrize(("current", "requested"), sorted(EXPECTED))
def test_every_allowed_transition_passes(current: S, requested: S) -> None:
    check_transition(current, requested)


@pytest.mark.parametrize(("current", "requested"), [
    (S.OPEN, S.COMPLETED), (S.OPEN, S.CLOSED), (S.OPEN, S.OPEN), (S.ASSIGNED, S.COMPLETED),
    (S.IN_PROGRESS, S.OPEN), (S.ON_HOLD, S.COMPLETED), (S.COMPLETED, S.CANCELLED), (S.CLOSED, S.OPEN),
    (S.CLOSED, S.IN_PROGRESS), (S.CANCELLED, S.OPEN), (S.CANCELLED, S.CANCELLED),
])
def test_forbidden_transitions_raise(current: S, requested: S) -> None:
    with pytest.raises(TransitionError) as raised:
        check_transition(current, requested)
    assert (raised.value.current, raised.value.requested) == (current.value, requested.value)


@given(st.lists(st.sampled_from(list(S)), max_size=60))
def test_random_requests_never_leave_a_terminal_state(requests: list[S]) -> None:
    status = S.OPEN
    for requested in requests:
        was_terminal = status.is_terminal
        try:
            check_transition(status, requested)
        except TransitionError:
            assert not can_transition(status, requested)
            continue
        assert not was_terminal
        status = requested


def test_due_at_adds_the_priority_response_time() -> None:
    opened = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert due_at(WorkOrderPriority.EMERGENCY, opened) == opened + timedelta(minutes=30)
    assert due_at(WorkOrderPriority.URGENT, opened) == opened + timedelta(hours=4)
    assert due_at(WorkOrderPriority.NORMAL, opened) == opened + timedelta(days=2)
    assert due_at(WorkOrderPriority.PLANNED, opened) == opened + timedelta(days=14)
