"""A named background thread that calls a function at a fixed wall-time interval until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval_s: float, action: Callable[[], object],
                 first_after_s: float | None = None) -> None:
        self._action = action
        self._interval_s = interval_s
        self._first_after_s = interval_s if first_after_s is None else first_after_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        delay = self._first_after_s
        while not self._stop.wait(delay):
            try:
                self._action()
            except Exception:  # a failed round is logged; the next one may succeed
                log.exception("periodic task %s failed", self._thread.name)
            delay = self._interval_s
