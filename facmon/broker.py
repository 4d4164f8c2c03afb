"""An embedded MQTT broker (amqtt, pure Python) for `facmon demo`, so the demo needs nothing installed.

amqtt delivers about 6k QoS 1 messages/s on a full core (MEASURED.md): plenty for the demo's few hundred
messages per second, never for production, where facmon connects to Mosquitto or another broker.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

from amqtt.broker import Broker

from core.errors import ServiceUnavailable


class EmbeddedBroker:
    """amqtt running on its own event loop in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="embedded-broker", daemon=True)
        self._broker: Broker | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        try:
            future.result(timeout_s)
        except Exception as error:
            raise ServiceUnavailable(f"embedded MQTT broker did not start on {self.port}: {error}") from error

    async def _start(self) -> None:
        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker = Broker(config)
        await self._broker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(timeout_s)
            except Exception:  # a broker that fails to stop cleanly must not block shutdown
                logging.getLogger(__name__).warning("embedded broker did not shut down cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
