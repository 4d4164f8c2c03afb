"""Scheduled faults for the partition benchmark and test: hot-bearing readings on chosen pumps, so alarms are
raised (and must be raised once) while the load runs, and the records database is asked what was raised.

A fault is a pump that reports ``bearing_temp_c`` above the bench rule's threshold every ``FAULT_PERIOD_S``
for ``hot_s`` seconds, then one cool reading. The bench rule (``bench_rule_text``) raises ``bench_overheat``
after an on-delay (``for:``), so an alarm shows both that the partition owning the site evaluates it and,
after a takeover, that the on-delay was continued rather than restarted or raised twice. Readings go out at
QoS 1 with a per-device ``seq`` through paho-mqtt, whose ``wait_for_publish`` gives the broker's
acknowledgement: ``acknowledged`` is exact and is added to the load's count when readings are compared
with what the store holds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, text

from core.domain import Asset, AssetKind
from core.wire import telemetry_topic

RULE_ID = "bench_overheat"
HOT_C = 160.0
COOL_C = 50.0
FAULT_PERIOD_S = 0.5


def bench_rule_text(delay_s: float) -> str:
    """The rule file the topology's processes load on top of the default pack."""
    return f"""rules:
  - id: {RULE_ID}
    description: Benchmark fault, a bearing far past any real limit.
    applies_to: pump
    when: "bearing_temp_c > 150"
    clear_when: "bearing_temp_c < 100"
    for: {delay_s}s
    severity: high
    message: "Benchmark overheat at {{asset}}"
"""


@dataclass
class Fault:
    """Pump ``asset`` of ``site`` runs hot from ``start_s`` (seconds after the publisher starts) for ``hot_s``."""

    site: str
    asset: str
    start_s: float
    hot_s: float
    first_hot_at: datetime | None = None  # the timestamp of its first hot reading
    cooled: bool = False

    def as_asset(self) -> Asset:
        return Asset(self.asset, self.site, AssetKind.PUMP, self.asset)


def _payload(temperature: float, at: float, seq: int) -> bytes:
    metrics = {"running": True, "flow_m3h": 24.0, "discharge_bar": 4.5, "suction_bar": 1.2,
               "vibration_mm_s": 1.2, "bearing_temp_c": temperature, "mains_ok": True}
    return orjson.dumps({"ts": round(at, 3), "metrics": metrics, "seq": seq})


@dataclass
class FaultPublisher:
    """Publishes the faults on a thread; ``add`` schedules one more while it runs (the takeover fault)."""

    host: str
    port: int
    faults: list[Fault] = field(default_factory=list)
    sent: int = 0
    acknowledged: int = 0

    def __post_init__(self) -> None:
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"facmon-bench-faults-{id(self):x}")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-faults", daemon=True)
        self._seq: dict[str, int] = {}
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._t0 = 0.0

    def start(self) -> None:
        self._client.connect(self.host, self.port)
        self._client.loop_start()
        self._t0 = time.monotonic()
        self._thread.start()

    def elapsed_s(self) -> float:
        return time.monotonic() - self._t0

    def add(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def done(self) -> bool:
        with self._lock:
            return all(fault.cooled for fault in self.faults)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop publishing (after every fault cooled, or at ``timeout_s``); wait for the acknowledgements."""
        deadline = time.monotonic() + timeout_s
        while not self.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(10)
        for info in self._pending:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self.acknowledged = sum(1 for info in self._pending if info.is_published())
        self._client.loop_stop()
        self._client.disconnect()

    def _run(self) -> None:
        while not self._stop.wait(FAULT_PERIOD_S):
            now = self.elapsed_s()
            with self._lock:
                due = [fault for fault in self.faults if not fault.cooled and now >= fault.start_s]
            for fault in due:
                hot = now < fault.start_s + fault.hot_s
                self._publish(fault, HOT_C if hot else COOL_C)
                if not hot:
                    fault.cooled = True

    def _publish(self, fault: Fault, temperature: float) -> None:
        at = time.time()
        seq = self._seq[fault.asset] = self._seq.get(fault.asset, 0) + 1
        if temperature == HOT_C and fault.first_hot_at is None:
            fault.first_hot_at = datetime.fromtimestamp(round(at, 3), UTC)
        topic = telemetry_topic(fault.site, AssetKind.PUMP, fault.asset)
        self._pending.append(self._client.publish(topic, _payload(temperature, at, seq), qos=1))
        self.sent += 1


def overheat_alarms(database_url: str) -> list[tuple[str, datetime]]:
    """Every ``bench_overheat`` alarm in the records database: (asset, started_at), oldest first."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT asset_id, started_at FROM alarms WHERE rule_id = :rule "
                                           "ORDER BY id"), {"rule": RULE_ID}).all()
    finally:
        engine.dispose()
    return [(str(asset), started if isinstance(started, datetime) else datetime.fromisoformat(str(started)))
            for asset, started in rows]


def duplicate_alarms(alarms: list[tuple[str, datetime]]) -> int:
    """Alarms beyond the first per asset: each fault asset runs hot once, so every extra row is an episode
    raised twice."""
    assets = [asset for asset, _ in alarms]
    return len(assets) - len(set(assets))
