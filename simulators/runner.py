"""Runs a simulated portfolio against an MQTT broker: one paho-mqtt client per device, one scheduler thread.

Each device connects as ``facmon-sim-<asset>`` with the last will ``offline`` (retained, QoS 1) on its
status topic and announces ``online`` (retained) on every connect; paho reconnects by itself with a
backoff. The scheduler thread reads the clock, asks the pure ``Simulation`` for the reports that are
due and publishes them as JSON at QoS 1. Event times follow the schedule, not the moment of publishing,
so a clock jump is caught up interval by interval.

``payload_format``: ``json`` (core.wire, on ``.../telemetry``), ``lp`` (InfluxDB line protocol through
core.lineprotocol, on ``.../lp``) or ``sparkplug`` (one Sparkplug B edge node per site instead of a client per
device: simulators.gateway). Malformed payloads (``malformed_every_s``, the ``malformed`` fault) are JSON-path
defects and are injected in the json and lp formats only.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from core.clock import Clock
from core.domain import Asset, Reading, WorkOrderStatus
from core.events import Event, EventBus
from core.lineprotocol import encode_reading as encode_line
from core.wire import LINE_PROTOCOL, OFFLINE, ONLINE, TOPIC_ROOT, encode_reading, status_topic, telemetry_topic
from simulators.gateway import SparkplugGateway
from simulators.malformed import malformed_payload
from simulators.portfolio import Portfolio
from simulators.scenario import Scenario
from simulators.simulation import Simulation

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
MAX_IDLE_WALL_S = 0.25  # the scheduler looks at the clock at least this often (and sees stop() as fast)
MIN_IDLE_WALL_S = 0.005  # and at most this often, so a ManualClock does not spin a core
PAYLOAD_FORMATS = ("json", "lp", "sparkplug")
_QUEUED = (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)  # NO_CONN: QoS 1 waits in paho


@dataclass(frozen=True, slots=True)
class SimulatorStats:
    published: int
    malformed_injected: int
    by_asset: dict[str, int] = field(default_factory=dict)


class _Device:
    """One device's MQTT connection. drop() and restore() change the link in the background (stopping
    paho's network thread takes up to a second); reports published meanwhile wait in order and go out
    once the link is back, so the stream only misses what the device measured while it was offline."""

    def __init__(self, asset: Asset, host: str, port: int, line_protocol: bool = False) -> None:
        self.asset = asset
        self.telemetry = telemetry_topic(asset.site_id, asset.kind, asset.id)
        if line_protocol:
            self.telemetry = f"{TOPIC_ROOT}/{asset.site_id}/{asset.kind.value}/{asset.id}/{LINE_PROTOCOL}"
        self.status = status_topic(asset.site_id, asset.kind, asset.id)
        self.connected = threading.Event()
        self.offline = False  # the scheduler's view: an offline fault holds this device
        self._linked = True  # False from drop() until restore() has reconnected
        self._held: list[bytes] = []
        self._lock = threading.Lock()
        self._transition: threading.Thread | None = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"facmon-sim-{asset.id}",
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self.client.will_set(self.status, OFFLINE, qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.connect_async(host, port, keepalive=KEEPALIVE_S)

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                    _properties: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("simulated %s: connection refused: %s", self.asset.id, reason)
            return
        client.publish(self.status, ONLINE, qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: object,
                       _properties: object) -> None:
        self.connected.clear()
        if self._linked and getattr(reason, "is_failure", False):
            log.info("simulated %s lost its connection (%s); reconnecting", self.asset.id, reason)

    def publish(self, payload: bytes) -> bool:
        """Hand a report to paho (QoS 1: it waits in paho while the broker is away), or hold it while
        the link is being changed."""
        with self._lock:
            if not self._linked:
                self._held.append(payload)
                return True
            return self._send(payload)

    def _send(self, payload: bytes) -> bool:
        return self.client.publish(self.telemetry, payload, qos=1).rc in _QUEUED

    def drop(self) -> None:
        """Lose the connection without DISCONNECT, as a device losing power or network does: the broker
        then publishes the last will. Paho's network thread is stopped so that it does not reconnect."""
        self.offline = True
        with self._lock:
            self._linked = False
        self.connected.clear()
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the broker sees the connection end now
        self._in_background(self._stop_network)

    def restore(self) -> None:
        """Reconnect after drop() and send the reports held meanwhile."""
        self.offline = False
        self._in_background(self._reconnect)

    def _stop_network(self) -> None:
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def _reconnect(self) -> None:
        try:
            self.client.reconnect()
        except OSError as error:  # the broker is away too: the network thread retries with backoff
            log.info("simulated %s: reconnect failed (%s); retrying", self.asset.id, error)
        self.client.loop_start()
        with self._lock:
            for payload in self._held:
                self._send(payload)
            self._held.clear()
            self._linked = True

    def _in_background(self, work: Callable[[], None]) -> None:
        previous = self._transition

        def run() -> None:
            if previous is not None:
                previous.join()  # link changes happen in the order they were asked for
            work()

        self._transition = threading.Thread(target=run, name=f"facmon-sim-{self.asset.id}-link", daemon=True)
        self._transition.start()

    def close(self, timeout_s: float) -> None:
        """Say ``offline`` and DISCONNECT cleanly (the broker then does not publish the will)."""
        if self._transition is not None:
            self._transition.join(timeout_s)
        with self._lock:
            linked, held = self._linked, len(self._held)
        if held:
            log.info("simulated %s stops with %d reports not sent", self.asset.id, held)
        if linked and self.connected.is_set():
            info = self.client.publish(self.status, OFFLINE, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError) as error:
                log.info("simulated %s: offline status not sent: %s", self.asset.id, error)
        self.client.disconnect()
        self.client.loop_stop()


class SimulatorRunner:
    """Publishes ``portfolio`` to the broker at ``host:port`` in ``clock`` time until stop().

    ``start`` is the run start that scenario offsets count from (default: the clock's time at start()).
    ``malformed_every_s`` (clock seconds) injects a malformed payload on a real device topic, cycling
    through simulators.malformed.DEFECTS.
    """

    def __init__(self, portfolio: Portfolio, clock: Clock, host: str, port: int, seed: int = 0,
                 scenario: Scenario | None = None, malformed_every_s: float | None = None,
                 start: datetime | None = None, connect_timeout_s: float = 5.0,
                 payload_format: str = "json") -> None:
        if malformed_every_s is not None and malformed_every_s <= 0:
            raise ValueError("malformed_every_s must be positive")
        if payload_format not in PAYLOAD_FORMATS:
            raise ValueError(f"payload_format must be one of {', '.join(PAYLOAD_FORMATS)}")
        self.payload_format = payload_format
        (scenario or Scenario()).check(portfolio)
        self._site_of = {asset.id: asset.site_id for asset in portfolio.assets}
        self.portfolio, self.clock, self.host, self.port, self.seed = portfolio, clock, host, port, seed
        self.scenario = scenario
        self.malformed_every = None if malformed_every_s is None else timedelta(seconds=malformed_every_s)
        self.start_at = start
        self.connect_timeout_s = connect_timeout_s
        self._devices: dict[str, _Device] = {}
        self._gateways: dict[str, SparkplugGateway] = {}  # by site, in the sparkplug format
        self._dead: set[str] = set()  # devices a gateway has announced dead (DDEATH)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._published: Counter[str] = Counter()
        self._malformed = 0
        self._services: list[tuple[str, datetime]] = []
        self.serviced: list[tuple[str, datetime]] = []  # what service() applied, in order

    @property
    def stats(self) -> SimulatorStats:
        with self._lock:
            return SimulatorStats(sum(self._published.values()), self._malformed, dict(self._published))

    def service(self, asset_id: str, at: datetime) -> None:
        """Completed maintenance on ``asset_id`` at ``at`` (e.g. a work order closed): the scheduler thread resets
        the serviced component's wear before its next report. Unknown assets are ignored (not simulated here)."""
        if asset_id in {asset.id for asset in self.portfolio.assets}:
            with self._lock:
                self._services.append((asset_id, at))

    def follow_work_orders(self, bus: EventBus) -> Callable[[], None]:
        """Close the maintenance loop: a work order that reaches ``completed`` (or ``closed`` without it) on
        ``bus`` ("workorder.changed") services its asset. Returns the unsubscribe function."""
        done: set[object] = set()

        def on_event(event: Event) -> None:
            data = event.data
            finished = data.get("status") in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED)
            if finished and data.get("asset_id") and data.get("id") not in done:
                done.add(data.get("id"))
                self.service(str(data["asset_id"]), event.at)

        return bus.subscribe(on_event, "workorder.changed")

    def _apply_services(self, simulation: Simulation) -> None:
        with self._lock:
            pending, self._services = self._services, []
        for asset_id, at in pending:
            simulation.service(asset_id)
            self.serviced.append((asset_id, at))
            log.info("simulated %s serviced at %s: wear reset", asset_id, at.isoformat())

    def start(self) -> None:
        """Connect every device (waiting up to ``connect_timeout_s`` for the broker), then start publishing."""
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        start = self.start_at or self.clock.now()
        simulation = Simulation(self.portfolio, start, self.seed, self.scenario)
        if self.payload_format == "sparkplug":
            self._start_gateways()
        for asset in self.portfolio.assets if self.payload_format != "sparkplug" else ():
            device = _Device(asset, self.host, self.port, line_protocol=self.payload_format == "lp")
            device.client.loop_start()
            self._devices[asset.id] = device
        links = [device.connected for device in self._devices.values()]
        for link in [*links, *(gateway.connected for gateway in self._gateways.values())]:
            if not link.wait(self.connect_timeout_s):
                log.warning("simulated devices not all connected to %s:%d yet; publishing anyway (queued)",
                            self.host, self.port)
                break
        self._thread = threading.Thread(target=self._run, args=(simulation, start), name="facmon-simulator",
                                        daemon=True)
        self._thread.start()

    def _start_gateways(self) -> None:
        for site in self.portfolio.sites:
            assets = [asset for asset in self.portfolio.assets if asset.site_id == site.id]
            if assets:
                gateway = SparkplugGateway(site.id, assets, self.host, self.port, self.clock.now)
                gateway.client.loop_start()
                self._gateways[site.id] = gateway

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop publishing, announce ``offline`` and disconnect every device cleanly."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        for device in self._devices.values():
            device.close(timeout_s=min(timeout_s, 2.0))
        for gateway in self._gateways.values():
            gateway.close(timeout_s=min(timeout_s, 2.0))

    def _run(self, simulation: Simulation, start: datetime) -> None:
        try:
            self._schedule(simulation, start)
        except Exception:
            log.exception("the simulator's scheduler failed; simulated devices stop reporting")
            raise

    def _schedule(self, simulation: Simulation, start: datetime) -> None:
        next_malformed = None if self.malformed_every is None else start + self.malformed_every
        while not self._stop.is_set():
            now = self.clock.now()
            self._apply_services(simulation)
            self._publish(simulation.due(now), simulation)
            self._sync_connections(simulation.offline(now))
            if next_malformed is not None and next_malformed <= now:
                self._inject_malformed(now)
                next_malformed += self.malformed_every or timedelta(0)
            if simulation.is_behind(now):
                continue  # still catching up after a jump of the clock
            wait_s = self.clock.wall_seconds((simulation.next_due() - now).total_seconds())
            self._stop.wait(min(MAX_IDLE_WALL_S, max(MIN_IDLE_WALL_S, wait_s)))

    def _publish(self, readings: list[Reading], simulation: Simulation) -> None:
        for reading in readings:
            if self._gateways:
                sent = self._gateways[reading.site_id].data(reading)
            else:
                device = self._devices[reading.asset_id]
                if "malformed" in simulation.scenario.active(device.asset, reading.at - simulation.start):
                    self._inject_malformed(reading.at, device)  # the device's firmware garbles this report
                    continue
                sent = device.publish(self._encode(reading))
            if sent:
                with self._lock:
                    self._published[reading.asset_id] += 1
            else:
                log.warning("simulated %s: paho refused a report (queue full?)", reading.asset_id)

    def _encode(self, reading: Reading) -> bytes:
        return encode_line(reading).encode() if self.payload_format == "lp" else encode_reading(reading)

    def _sync_connections(self, offline: set[str]) -> None:
        for asset_id in offline ^ self._dead if self._gateways else ():
            gateway = self._gateways[self._site_of[asset_id]]
            if asset_id in offline:
                gateway.device_death(asset_id)
                self._dead.add(asset_id)
            else:
                gateway.device_birth(asset_id)
                self._dead.discard(asset_id)
        for asset_id, device in self._devices.items():
            if asset_id in offline and not device.offline:
                log.info("simulated %s goes offline (fault)", asset_id)
                device.drop()
            elif asset_id not in offline and device.offline:
                log.info("simulated %s comes back online", asset_id)
                device.restore()

    def _inject_malformed(self, now: datetime, device: _Device | None = None) -> None:
        if device is None:
            online = [device for device in self._devices.values() if not device.offline]
            if not online:
                return
            device = online[self._malformed % len(online)]
        defect, payload = malformed_payload(self._malformed, device.asset.kind, now)
        if device.publish(payload):
            log.debug("injected a malformed payload (%s) on %s", defect, device.telemetry)
            with self._lock:
                self._malformed += 1
