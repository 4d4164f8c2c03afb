"""Per-device sequence tracking for the JSON ``seq`` counter: gaps and duplicates counted per device (pure)."""

from __future__ import annotations

import enum
from collections import Counter, deque
from typing import Any

RECENT = 64  # sequence numbers remembered per device to recognise a duplicate
RESET_DISTANCE = 1000  # a step back further than this is a device restart, not a late message


class SeqOutcome(enum.StrEnum):
    FIRST = "first"
    IN_ORDER = "in_order"
    GAP = "gap"
    DUPLICATE = "duplicate"
    LATE = "late"  # older than the newest seen, not seen before (it was counted as missing)
    RESET = "reset"  # far behind the newest: the device restarted its counter


class SeqTracker:
    """Counts, per device, gaps (and the messages missing in them), duplicates, late arrivals and resets.

    Not thread-safe: one tracker per consumer thread (the Decoder guards it with its lock).
    """

    def __init__(self) -> None:
        self._newest: dict[str, int] = {}
        self._recent: dict[str, deque[int]] = {}
        self.gaps: Counter[str] = Counter()
        self.missing: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self.late: Counter[str] = Counter()
        self.resets: Counter[str] = Counter()

    def observe(self, device: str, seq: int) -> SeqOutcome:
        newest = self._newest.get(device)
        recent = self._recent.get(device)
        if recent is None:
            recent = self._recent[device] = deque(maxlen=RECENT)
        if newest is None:
            outcome = SeqOutcome.FIRST
        elif seq in recent:
            self.duplicates[device] += 1
            return SeqOutcome.DUPLICATE
        elif seq == newest + 1:
            outcome = SeqOutcome.IN_ORDER
        elif seq > newest:
            self.gaps[device] += 1
            self.missing[device] += seq - newest - 1
            outcome = SeqOutcome.GAP
        elif newest - seq > RESET_DISTANCE:
            self.resets[device] += 1
            recent.clear()
            outcome = SeqOutcome.RESET
        else:
            self.late[device] += 1
            recent.append(seq)
            return SeqOutcome.LATE
        self._newest[device] = seq
        recent.append(seq)
        return outcome

    def stats(self) -> dict[str, Any]:
        """Per-device counts (devices with none left out), JSON-safe."""
        return {"seq_gaps": dict(self.gaps), "seq_missing": dict(self.missing),
                "seq_duplicates": dict(self.duplicates), "seq_late": dict(self.late),
                "seq_resets": dict(self.resets)}
