"""The ISA-18.2 alarm state machine, pure: which state a raise, clear or acknowledgement leads to.

    state               raise            clear            acknowledge
    NORMAL              UNACKNOWLEDGED   -                -
    UNACKNOWLEDGED      -                RTN_UNACK        ACKNOWLEDGED
    ACKNOWLEDGED        -                NORMAL           -
    RTN_UNACKNOWLEDGED  UNACKNOWLEDGED   -                NORMAL

"-" is forbidden and raises TransitionError. Raising from RTN_UNACKNOWLEDGED continues the same
episode (the caller counts one more occurrence); raising an alarm that is already active is refused,
so a duplicate raise is never mistaken for a new occurrence.
"""

from __future__ import annotations

import enum

from core.domain import AlarmState
from core.errors import TransitionError


class AlarmAction(enum.StrEnum):
    RAISE = "raise"
    CLEAR = "clear"
    ACKNOWLEDGE = "acknowledge"


_NORMAL = AlarmState.NORMAL
_UNACK = AlarmState.UNACKNOWLEDGED
_ACK = AlarmState.ACKNOWLEDGED
_RTN_UNACK = AlarmState.RTN_UNACKNOWLEDGED

TRANSITIONS: dict[tuple[AlarmState, AlarmAction], AlarmState] = {
    (_NORMAL, AlarmAction.RAISE): _UNACK,
    (_UNACK, AlarmAction.CLEAR): _RTN_UNACK,
    (_UNACK, AlarmAction.ACKNOWLEDGE): _ACK,
    (_ACK, AlarmAction.CLEAR): _NORMAL,
    (_RTN_UNACK, AlarmAction.RAISE): _UNACK,
    (_RTN_UNACK, AlarmAction.ACKNOWLEDGE): _NORMAL,
}


def apply(state: AlarmState, action: AlarmAction) -> AlarmState:
    """The state after ``action``; TransitionError if the lifecycle forbids it."""
    try:
        return TRANSITIONS[state, action]
    except KeyError:
        raise TransitionError("alarm", state.value, action.value) from None


def on_raise(state: AlarmState) -> AlarmState:
    return apply(state, AlarmAction.RAISE)


def on_clear(state: AlarmState) -> AlarmState:
    return apply(state, AlarmAction.CLEAR)


def on_acknowledge(state: AlarmState) -> AlarmState:
    return apply(state, AlarmAction.ACKNOWLEDGE)


def allowed(state: AlarmState) -> frozenset[AlarmAction]:
    """The actions the lifecycle accepts in ``state`` (for the console's buttons)."""
    return frozenset(action for (source, action) in TRANSITIONS if source is state)
