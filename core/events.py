"""An in-process event bus: parts publish what happened, the API streams it to consoles.

Publishing never blocks and never fails the publisher: a subscriber that raises is logged and kept.
Safe to publish from any thread; async subscribers receive events on their own event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """``topic`` is dotted, e.g. ``alarm.raised``, ``workorder.changed``, ``forecast.updated``."""

    topic: str
    data: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


Handler = Callable[[Event], None]

# Published once when the service begins to stop, so long-lived listeners (console event streams) end
# cleanly instead of being cancelled by the HTTP server's shutdown.
STOPPING = "system.stopping"


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler, prefix: str = "") -> Callable[[], None]:
        """Call ``handler`` for every event whose topic starts with ``prefix``; returns an unsubscribe."""
        entry = (prefix, handler)
        with self._lock:
            self._handlers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._handlers:
                    self._handlers.remove(entry)

        return unsubscribe

    def subscribe_queue(self, loop: asyncio.AbstractEventLoop, maxsize: int = 1000,
                        prefix: str = "") -> tuple[asyncio.Queue[Event], Callable[[], None]]:
        """An asyncio queue on ``loop`` fed with events; when it is full the oldest event is dropped."""
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)

        def put(event: Event) -> None:
            if queue.full():
                queue.get_nowait()  # a slow console loses old events, never blocks the publisher
            queue.put_nowait(event)

        def handler(event: Event) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(put, event)

        return queue, self.subscribe(handler, prefix)

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        event = Event(topic, data)
        with self._lock:
            handlers = [h for prefix, h in self._handlers if topic.startswith(prefix)]
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed for %s", topic)
