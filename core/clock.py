"""Clocks: wall time for production, accelerated simulated time for the demo and tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def wall_seconds(self, clock_seconds: float) -> float:
        """How many real seconds pass while ``clock_seconds`` pass on this clock."""
        ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wall_seconds(self, clock_seconds: float) -> float:
        return clock_seconds


class AcceleratedClock:
    """Simulated time that starts at ``start`` and runs ``speed`` times faster than the wall."""

    def __init__(self, start: datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    def wall_seconds(self, clock_seconds: float) -> float:
        return clock_seconds / self.speed


class ManualClock:
    """A clock that only moves when told to; for tests and replays."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self._now += by

    def wall_seconds(self, clock_seconds: float) -> float:  # noqa: ARG002 - waiting on it takes no time
        return 0.0
