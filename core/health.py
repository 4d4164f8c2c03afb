"""What a facmon process depends on (the broker, the telemetry store, the records database) and whether each
answers: named probes, run by a watch thread, whose last results ``/healthz`` and the metrics read.

A probe returns when its dependency answers and raises (any exception; its text is the reason) when it does
not. Probes run only in ``check``: reading the states (``states``, ``report``) costs nothing, so a health
probe from the orchestrator never waits on a store that hangs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.clock import Clock

Probe = Callable[[], object]  # returns if the dependency answers, raises with the reason if not
# The dependencies' names (``/healthz`` "down", the metric's label ``name``).
BROKER = "broker"
TELEMETRY_STORE = "telemetry_store"
RECORDS_DATABASE = "records_database"
OK = "ok"
DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class DependencyState:
    """The last check of one dependency: up or down, since when (clock time), and why it is down."""

    name: str
    up: bool
    since: datetime
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"up": self.up, "since": self.since.isoformat(), "detail": self.detail}


class Dependencies:
    """Named probes and their last results; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._probes: dict[str, Probe] = {}
        self._states: dict[str, DependencyState] = {}
        self._lock = threading.Lock()

    def add(self, name: str, probe: Probe) -> None:
        """Watch ``name`` with ``probe`` from the next ``check`` on (a name added again is replaced)."""
        with self._lock:
            self._probes[name] = probe

    def check(self) -> list[DependencyState]:
        """Run every probe once (on the caller's thread) and return the new states."""
        with self._lock:
            probes = list(self._probes.items())
        for name, probe in probes:
            try:
                probe()
            except Exception as error:  # any failure of a probe is the dependency's: say why
                self._record(name, False, str(error) or type(error).__name__)
            else:
                self._record(name, True, "")
        return self.states()

    def states(self) -> list[DependencyState]:
        """The last result of each dependency checked so far, by name."""
        with self._lock:
            return [self._states[name] for name in sorted(self._states)]

    def down(self) -> list[str]:
        return [state.name for state in self.states() if not state.up]

    def is_up(self, name: str) -> bool:
        """False only when ``name`` was checked and found down (unknown counts as up)."""
        with self._lock:
            state = self._states.get(name)
        return state is None or state.up

    def report(self) -> dict[str, Any]:
        """``{"status": "ok"|"degraded", "down": [...], "dependencies": {name: {up, since, detail}}}``."""
        states = self.states()
        down = [state.name for state in states if not state.up]
        return {"status": DEGRADED if down else OK, "down": down,
                "dependencies": {state.name: state.as_dict() for state in states}}

    def _record(self, name: str, up: bool, detail: str) -> None:
        with self._lock:
            before = self._states.get(name)
            since = before.since if before is not None and before.up == up else self._clock.now()
            self._states[name] = DependencyState(name, up, since, detail)
