"""The ISA-18.2 alarm state machine: every allowed transition, and the forbidden ones refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import AlarmState
from core.errors import TransitionError
from rules.lifecycle import AlarmAction, allowed, apply, on_acknowledge, on_clear, on_raise

N, U, A, R = (AlarmState.NORMAL, AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED,
              AlarmState.RTN_UNACKNOWLEDGED)


@pytest.mark.parametrize(("function", "before", "after"), [
    (on_raise, N, U),
    (on_acknowledge, U, A),
    (on_clear, U, R),
    (on_clear, A, N),
    (on_acknowledge, R, N),
    (on_raise, R, U),
])
def test_allowed_transitions(function, before: AlarmState, after: AlarmState) -> None:
    assert function(before) is after


@pytest.mark.parametrize(("function", "state"), [
    (on_acknowledge, N),
    (on_acknowledge, A),
    (on_clear, N),
    (on_clear, R),
    (on_raise, U),
    (on_raise, A),
])
def test_forbidden_transitions_raise(function, state: AlarmState) -> None:
    with pytest.raises(TransitionError, match=state.value) as caught:
        function(state)
    assert caught.value.current == state.value


def test_allowed_lists_what_each_state_accepts() -> None:
    assert allowed(N) == {AlarmAction.RAISE}
    assert allowed(U) == {AlarmAction.ACKNOWLEDGE, AlarmAction.CLEAR}
    assert allowed(A) == {AlarmAction.CLEAR}
    assert allowed(R) == {AlarmAction.RAISE, AlarmAction.ACKNOWLEDGE}


@given(st.lists(st.sampled_from(list(AlarmAction)), max_size=30))
def test_an_alarm_returns_to_normal_only_when_cleared_and_acknowledged(actions: list[AlarmAction]) -> None:
    state, cleared, acknowledged = N, True, True
    for action in actions:
        if action not in allowed(state):
            with pytest.raises(TransitionError):
                apply(state, action)
            continue
        state = apply(state, action)
        if action is AlarmAction.RAISE:
            cleared, acknowledged = False, False
        elif action is AlarmAction.CLEAR:
            cleared = True
        else:
            acknowledged = True
        assert (state is N) == (cleared and acknowledged)
        assert state.is_active == (not cleared)
