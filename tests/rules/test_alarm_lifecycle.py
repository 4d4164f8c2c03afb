"""The ISA-18.2 alarm state machine: every allowed transition, and the forbidden ones refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import Alarm, AlarmState, Severity
from core.errors import TransitionError
from rules.lifecycle import (
    MAX_SHELF,
    AlarmAction,
    allowed,
    apply,
    check_assign,
    check_shelve,
    is_acknowledged,
    is_shelved,
    on_acknowledge,
    on_clear,
    on_raise,
)

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


# --- shelving and assignment (flags on top of the state) --------------------------------------------

def _alarm(state: AlarmState, shelved_until: datetime | None = None) -> Alarm:
    return Alarm(1, "r", "a", "s", Severity.HIGH, state, "m", NOW, shelved_until=shelved_until)


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("state", [U, A, R])
def test_an_open_alarm_may_be_shelved_and_assigned(state: AlarmState) -> None:
    check_shelve(_alarm(state), NOW + timedelta(hours=8), NOW)
    check_assign(_alarm(state))


def test_a_normal_alarm_may_not_be_shelved_or_assigned() -> None:
    with pytest.raises(TransitionError, match="'normal' to 'shelved'"):
        check_shelve(_alarm(N), NOW + timedelta(hours=1), NOW)
    with pytest.raises(TransitionError, match="'normal' to 'assigned'"):
        check_assign(_alarm(N))


def test_only_an_acknowledged_episode_counts_as_acknowledged() -> None:
    acked = Alarm(1, "r", "a", "s", Severity.HIGH, A, "m", NOW, acknowledged_at=NOW)
    assert is_acknowledged(acked)
    assert not is_acknowledged(_alarm(U))
    assert not is_acknowledged(Alarm(1, "r", "a", "s", Severity.HIGH, R, "m", NOW, acknowledged_at=NOW))


@given(st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=30)))
def test_a_shelf_must_end_after_now_and_within_the_limit(offset: timedelta) -> None:
    ok = timedelta(0) < offset <= MAX_SHELF
    try:
        check_shelve(_alarm(U), NOW + offset, NOW)
    except TransitionError:
        assert not ok
    else:
        assert ok
        assert is_shelved(_alarm(U, NOW + offset), NOW)
        assert not is_shelved(_alarm(U, NOW + offset), NOW + offset)
