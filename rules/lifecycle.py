"""The ISA-18.2 alarm state machine, pure: which state a raise, clear or acknowledgement leads to.

    state               raise            clear            acknowledge
    NORMAL              UNACKNOWLEDGED   -                -
    UNACKNOWLEDGED      -                RTN_UNACK        ACKNOWLEDGED
    ACKNOWLEDGED        -                NORMAL           -
    RTN_UNACKNOWLEDGED  UNACKNOWLEDGED   -                NORMAL

"-" is forbidden and raises TransitionError. Raising from RTN_UNACKNOWLEDGED continues the same
episode (the caller counts one more occurrence); raising an alarm that is already active is refused,
so a duplicate raise is never mistaken for a new occurrence.

Shelving, suppression and out of service are flags on top of the state (ISA-18.2): an operator may
shelve or assign an episode that is not back to NORMAL, for at most ``MAX_SHELF``, until a time
after now; unshelving needs a shelf. ``check_shelve``/``check_assign`` say so.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from core.domain import Alarm, AlarmState
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


def is_acknowledged(alarm: Alarm) -> bool:
    """An operator acknowledged this episode and it needs no further acknowledgement."""
    return alarm.acknowledged_at is not None and alarm.state in (AlarmState.ACKNOWLEDGED, AlarmState.NORMAL)


def allowed(state: AlarmState) -> frozenset[AlarmAction]:
    """The actions the lifecycle accepts in ``state`` (for the console's buttons)."""
    return frozenset(action for (source, action) in TRANSITIONS if source is state)


MAX_SHELF = timedelta(days=7)  # a shelf is temporary by definition; a longer one is "out of service"


def check_shelve(alarm: Alarm, until: datetime, at: datetime) -> None:
    """TransitionError unless ``alarm`` may be shelved until ``until`` (judged at ``at``)."""
    if alarm.state is AlarmState.NORMAL:
        raise TransitionError("alarm", alarm.state.value, "shelved")
    if until <= at:
        raise TransitionError("alarm shelf", "now " + at.isoformat(), "until " + until.isoformat() + " (past)")
    if until - at > MAX_SHELF:
        raise TransitionError("alarm shelf", "now " + at.isoformat(),
                              f"until {until.isoformat()} (longer than {MAX_SHELF.days} days)")


def check_assign(alarm: Alarm) -> None:
    if alarm.state is AlarmState.NORMAL:
        raise TransitionError("alarm", alarm.state.value, "assigned")


def is_shelved(alarm: Alarm, at: datetime) -> bool:
    """Shelved and the shelf has not expired at ``at`` (expiry is applied by the service's tick)."""
    return alarm.shelved_until is not None and at < alarm.shelved_until
