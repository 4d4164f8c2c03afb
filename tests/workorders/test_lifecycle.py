"""The closed-loop work-order lifecycle as a pure state machine: every step allowed and forbidden."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import WorkOrderStatus
from core.errors import TransitionError
from workorders.lifecycle import ALLOWED, allowed, can_transition, check_transition

S = WorkOrderStatus

# The loop as docs/workorders.md draws it, written out independently of ALLOWED.
EXPECTED = {
    (S.REQUESTED, S.DISPATCHED), (S.REQUESTED, S.ACCEPTED), (S.REQUESTED, S.CANCELLED),
    (S.DISPATCHED, S.ACCEPTED), (S.DISPATCHED, S.REQUESTED), (S.DISPATCHED, S.CANCELLED),
    (S.ACCEPTED, S.ON_SITE), (S.ACCEPTED, S.REQUESTED), (S.ACCEPTED, S.CANCELLED),
    (S.ON_SITE, S.IN_PROGRESS), (S.ON_SITE, S.WAITING), (S.ON_SITE, S.COMPLETED), (S.ON_SITE, S.CANCELLED),
    (S.IN_PROGRESS, S.WAITING), (S.IN_PROGRESS, S.COMPLETED), (S.IN_PROGRESS, S.CANCELLED),
    (S.WAITING, S.IN_PROGRESS), (S.WAITING, S.CANCELLED),
    (S.COMPLETED, S.VERIFIED), (S.COMPLETED, S.IN_PROGRESS),
    (S.VERIFIED, S.FOLLOWED_UP), (S.VERIFIED, S.CLOSED),
    (S.FOLLOWED_UP, S.CLOSED),
}
FORBIDDEN = sorted(set(itertools.product(S, S)) - EXPECTED)


def test_allowed_table_is_exactly_the_documented_loop() -> None:
    assert set(ALLOWED) == set(S)
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == EXPECTED


@pytest.mark.parametrize(("current", "requested"), sorted(EXPECTED))
def test_every_allowed_step_passes(current: S, requested: S) -> None:
    check_transition(current, requested)
    assert can_transition(current, requested)


@pytest.mark.parametrize(("current", "requested"), FORBIDDEN)
def test_every_forbidden_step_raises_naming_the_allowed_ones(current: S, requested: S) -> None:
    with pytest.raises(TransitionError) as raised:
        check_transition(current, requested)
    error = raised.value
    assert (error.current, error.requested) == (current.value, requested.value)
    assert error.allowed == tuple(s.value for s in allowed(current))
    assert not can_transition(current, requested)


def test_allowed_lists_next_steps_in_lifecycle_order() -> None:
    assert allowed(S.REQUESTED) == (S.DISPATCHED, S.ACCEPTED, S.CANCELLED)
    assert allowed(S.ON_SITE) == (S.IN_PROGRESS, S.WAITING, S.COMPLETED, S.CANCELLED)
    assert allowed(S.CLOSED) == allowed(S.CANCELLED) == ()


def test_final_states_say_they_are_final() -> None:
    with pytest.raises(TransitionError, match="none \\(it is final\\)"):
        check_transition(S.CLOSED, S.REQUESTED)


def test_only_completed_work_can_be_verified_and_nothing_done_can_be_cancelled() -> None:
    assert [s for s in S if can_transition(s, S.VERIFIED)] == [S.COMPLETED]
    assert {s for s in S if can_transition(s, S.CANCELLED)} == {s for s in S if s.is_open}


@given(st.lists(st.sampled_from(list(S)), max_size=60))
def test_random_requests_never_leave_a_final_state(requests: list[S]) -> None:
    status = S.REQUESTED
    for requested in requests:
        if not can_transition(status, requested):
            with pytest.raises(TransitionError):
                check_transition(status, requested)
            continue
        assert not status.is_terminal
        status = requested


def test_every_status_is_reachable_from_requested_and_every_open_one_can_end() -> None:
    reached, frontier = {S.REQUESTED}, [S.REQUESTED]
    while frontier:
        for nxt in ALLOWED[frontier.pop()] - reached:
            reached.add(nxt)
            frontier.append(nxt)
    assert reached == set(S)
    for status in S:
        if not status.is_terminal:
            assert ALLOWED[status], f"{status} is a dead end"
