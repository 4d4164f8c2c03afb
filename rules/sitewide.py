"""Site-level rules: one alarm for a site when enough of its assets show the same condition at once.

A site rule (``scope: site``) is judged per asset like any rule, but its state lives per site: the
assets of the site it applies to are its members, and each member whose condition holds has an
*onset* (event time when it started to hold). The site condition holds when at least
``ceil(quorum * members)`` onsets fall within ``within`` of each other -- "most assets of the site lost
mains within 30 s" -- and then the rule's on-delay applies as usual. The site alarm clears (after the
off-delay) once fewer than that many members still hold, whatever their onsets.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rules.model import Rule

if TYPE_CHECKING:
    from rules.engine import RuleState, Transition


class SiteTracker:
    """One site-level rule on one site."""

    __slots__ = ("members", "onsets", "rule", "site_id", "state")

    def __init__(self, rule: Rule, site_id: str, state: RuleState) -> None:
        self.rule = rule
        self.site_id = site_id
        self.members: set[str] = set()
        self.onsets: dict[str, float] = {}
        self.state = state

    @property
    def needed(self) -> int:
        return max(1, math.ceil(self.rule.quorum * len(self.members) - 1e-9))

    def observe(self, asset_id: str, holds: bool | None, at: datetime) -> Transition | None:
        """Record whether the condition holds on ``asset_id`` at ``at``; the site's transition, if any."""
        from rules.engine import decide  # the state machine is the engine's; no cycle at import time

        if holds is None:
            return None
        if holds:
            self.onsets.setdefault(asset_id, at.timestamp())
        elif self.onsets.pop(asset_id, None) is None and not self.state.active and \
                self.state.pending_since is None:
            return None  # nothing held before and nothing holds now: the common, quiet case
        needed = self.needed
        new, transition = decide(self.rule, self.state, self.clustered(needed),
                                 len(self.onsets) < needed, at)
        self.state = new
        if transition is None:
            return None
        return replace(transition, assets=tuple(sorted(self.onsets)))

    def clustered(self, needed: int) -> bool:
        """Whether ``needed`` onsets lie within the rule's ``within`` span."""
        if len(self.onsets) < needed:
            return False
        times = sorted(self.onsets.values())
        span = self.rule.within.total_seconds()
        return any(times[i + needed - 1] - times[i] <= span for i in range(len(times) - needed + 1))

    def values(self) -> dict[str, float]:
        """The names a site rule's message may use."""
        return {"count": float(len(self.onsets)), "total": float(len(self.members))}

    def snapshot(self) -> dict[str, Any]:
        return {"onsets": dict(self.onsets), "members": sorted(self.members)}

    def restore(self, data: dict[str, Any]) -> None:
        self.onsets = {str(k): float(v) for k, v in data.get("onsets", {}).items()}
        self.members.update(str(m) for m in data.get("members", []))
