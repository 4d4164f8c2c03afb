"""Late readings and the timers they affect: a reading older than its asset's newest, within the allowed
lateness, moves the on-delay or off-delay it falls into, as if it had arrived in order.

The engine keeps, per asset, the event times of its recent readings (``times``, seconds, ascending). A
pending on-delay (``pending_since`` = P) means every reading since P held (or was unknown). A late
reading at L then changes that timer only in two ways:

* it does **not** hold and falls after P: the run was broken at L, so the on-delay restarts at the first
  reading after L (every one of those held);
* it holds, falls before P, and no reading lies between L and P: the run started at L, so the on-delay
  counts from L, and if some reading since P is at least ``for`` after L, the alarm raises at the first
  such reading (a transition in the past: when the in-order stream would have raised it).

The off-delay of an active alarm (``clearing_since``, the clear condition, ``clear_for``) is revised the
same way. A raise or a clear already emitted is never taken back, and a late reading that starts no run
(the readings around it disagree) changes nothing: operators are not shown alarms that event time says
already ended. Pure: no engine, no clock.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rules.model import Rule

if TYPE_CHECKING:  # the engine imports this module
    from rules.engine import RuleState, Transition


def revise(rule: Rule, state: RuleState, holds: bool | None, cleared: bool | None, late_s: float,
           times: Sequence[float]) -> tuple[RuleState, Transition | None]:
    """The rule's state after a late reading at ``late_s`` on which the raise condition is ``holds`` and
    the clear condition ``cleared``; ``times`` are the asset's reading times (not including the late one)."""
    if state.active:
        return _revise(rule, state, cleared, late_s, times, clearing=True)
    return _revise(rule, state, holds, late_s, times, clearing=False)


def _revise(rule: Rule, state: RuleState, truth: bool | None, late_s: float, times: Sequence[float],
            clearing: bool) -> tuple[RuleState, Transition | None]:
    from rules.engine import INITIAL, RuleState, Transition, TransitionKind  # no cycle at import time

    since = state.clearing_since if clearing else state.pending_since
    if since is None or truth is None:
        return state, None
    since_s = since.timestamp()
    if not truth and late_s > since_s:
        after = bisect_right(times, late_s)
        restart = _time(times[after]) if after < len(times) else None
        new = replace(state, clearing_since=restart) if clearing else replace(state, pending_since=restart)
        return (INITIAL if new == INITIAL else new), None
    if truth and late_s < since_s and bisect_right(times, late_s) == bisect_left(times, since_s):
        start = _time(late_s)
        delay = (rule.clear_for if clearing else rule.for_).total_seconds()
        done = bisect_left(times, max(since_s, late_s + delay))
        if done < len(times):
            at = _time(times[done])
            if clearing:
                return INITIAL, Transition(TransitionKind.CLEAR, at, start, rule.scope)
            return (RuleState(pending_since=start, active=True),
                    Transition(TransitionKind.RAISE, at, start, rule.scope))
        return (replace(state, clearing_since=start) if clearing else replace(state, pending_since=start)), None
    return state, None


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
