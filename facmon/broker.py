"""An embedded MQTT broker (amqtt, pure Python) for `facmon demo`, so the demo needs nothing installed.

amqtt delivers about 6k QoS 1 messages/s on a full core (MEASURED.md): plenty for the demo's few hundred
messages per second, never for production, where facmon connects to Mosquitto or another broker.

One amqtt hazard is mended here: amqtt handles each packet of a connection in its own task, and on end of
stream cancels those still running. A short-lived publisher (``mosquitto_pub -q 0``: CONNECT, PUBLISH,
DISCONNECT, close) then loses its message whenever the broker is busy, as it is under the demo, and leaves
no trace. ``_OrderlyHandler`` lets a PUBLISH finish (shielded from that cancel) and its message leave the
session's queue before a DISCONNECT or a closed connection is acted on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from typing import Any

import amqtt.broker
from amqtt.broker import Broker
from amqtt.mqtt.disconnect import DisconnectPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.publish import PublishPacket

from core.errors import ServiceUnavailable

DRAIN_S = 2.0  # the longest a disconnect waits for its connection's messages to be taken


class _OrderlyHandler(BrokerProtocolHandler):  # type: ignore[misc]  # amqtt is untyped here
    """amqtt's broker-side protocol handler, acting on a disconnect only after the messages before it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._publishing: set[asyncio.Future[None]] = set()
        self._disconnect_packet: DisconnectPacket | None = None

    async def handle_publish(self, publish_packet: PublishPacket) -> None:
        task = asyncio.ensure_future(super().handle_publish(publish_packet))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)
        await asyncio.shield(task)  # the reader's cancel at end of stream must not drop the message

    async def handle_disconnect(self, disconnect: DisconnectPacket | None) -> None:
        if disconnect is not None:
            self._disconnect_packet = disconnect  # a clean DISCONNECT stays clean (no will) if the close wins
        await asyncio.shield(self._disconnect_after_messages())

    async def _disconnect_after_messages(self) -> None:
        if self._publishing:
            await asyncio.wait(set(self._publishing), timeout=DRAIN_S)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_S
        while self.session is not None and not self.session.delivered_message_queue.empty():
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.001)  # the broker's client loop takes them one by one
        await super().handle_disconnect(self._disconnect_packet)


class _Broker(Broker):  # type: ignore[misc]  # amqtt is untyped here
    """amqtt's broker, sending a connecting client the retained messages of its own subscriptions only.

    amqtt 0.12 sends every new connection the retained messages matching *any* client's subscriptions: a
    publisher that subscribed to nothing gets the demo's thirty retained device statuses, and its messages
    wait behind them (a short-lived one is gone before they are read).
    """

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int], session: Any) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if any(subscriber is session for subscriber, _qos in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class EmbeddedBroker:
    """amqtt running on its own event loop in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="embedded-broker", daemon=True)
        self._broker: _Broker | None = None

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
        amqtt.broker.BrokerProtocolHandler = _OrderlyHandler  # the broker module names its handler class
        self._broker = _Broker(config)
        await self._broker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(timeout_s)
            except Exception:  # a broker that fails to stop cleanly must not block shutdown
                logging.getLogger(__name__).warning("embedded broker did not shut down cleanly", exc_info=True)
            # amqtt leaves its connections' tasks waiting; end them, so none is destroyed while pending.
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self._loop).result(timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)


async def _cancel_the_rest() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
