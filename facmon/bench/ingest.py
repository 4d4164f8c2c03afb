"""`facmon bench ingest`: QoS 1 telemetry through Mosquitto and the collector into InfluxDB, counted exactly.

One run, two phases over the same broker with the same load:
1. *broker limit*: the simulators' load generator (simulators.load.run_load: separate processes, as fast
   as the QoS 1 in-flight window allows, counting PUBACKs) publishes to one site while ``mosquitto_sub
   -q 1`` receives it; its rate from first to last message is ``broker_limit_msgs_per_s``.
2. *collector*: the same load to a fresh site, received by the collector (collector.mqtt + collector.ingest:
   decode, validate, spool with group commit, manual acks) and written by its store writer into InfluxDB.
   ``seconds`` runs from the first message the collector receives until the store holds every
   acknowledged message; ``lost`` / ``duplicated`` compare the points InfluxDB counts for the site with the
   messages the broker acknowledged to the load generator.
Both phases publish exactly ``--messages N`` (the load generator's count mode, waiting for every PUBACK at
QoS 1); ``messages`` in the JSON is what the broker acknowledged, N unless something failed.
``cpu_us_per_msg`` splits the CPU of the collector phase (load generator started until the store holds all)
by process: the collector (this process, or the sum of the ``--collectors`` children), Mosquitto and InfluxDB
(utime + stime from /proc/<pid>/stat; null when the bench was given a broker or an InfluxDB it did not
start) and the load generator's workers; CPU seconds / messages, in microseconds.
Mosquitto and InfluxDB are started from the Debian binaries (facmon.services) unless given. The rules
consumer is not part of this benchmark (it measures ingest into the store).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    pass

DEVICES = 10_000  # > the load generator's in-flight window per process, so no device repeats a millisecond
DRAIN_TIMEOUT_S = 120.0


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("ingest", help="MQTT -> collector -> InfluxDB at QoS 1 (one JSON object)")
    bench.add_argument("--messages", type=int, default=400_000, help="messages to publish in each phase (exactly)")
    bench.add_argument("--qos", type=int, choices=(0, 1), default=1)
    bench.add_argument("--influx-url", default=None, help="use this InfluxDB 1.x (default: start one)")
    bench.add_argument("--mqtt-host", default=None, help="use this broker (default: start Mosquitto)")
    bench.add_argument("--mqtt-port", type=int, default=1883)
    bench.add_argument("--devices", type=int, default=DEVICES)
    bench.add_argument("--skip-broker-limit", action="store_true", help="do not measure the broker alone")
    bench.add_argument("--collectors", type=int, default=1,
                       help="collector processes on one MQTT shared subscription (default 1: in this process)")
    bench.add_argument("--mqtt-protocol", choices=("3.1.1", "5"), default="3.1.1",
                       help="the collector's MQTT version (several collectors always use 5)")
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = bench_ingest(args.messages, args.qos, args.influx_url, args.mqtt_host, args.mqtt_port,
                          args.devices, not args.skip_broker_limit, args.collectors, args.mqtt_protocol)
    print(json.dumps(result))  # noqa: T201
    complete = result["messages"] == args.messages  # the load generator published and had acknowledged all N
    return 0 if complete and result["lost"] == 0 and result["duplicated"] == 0 else 1


def bench_ingest(messages: int, qos: int = 1, influx_url: str | None = None, mqtt_host: str | None = None,
                 mqtt_port: int = 1883, devices: int = DEVICES, broker_limit: bool = True,
                 collectors: int = 1, protocol: str = "3.1.1") -> dict[str, Any]:
    from facmon.services import InfluxDB, Mosquitto, discard_service, make_service_dir
    from simulators.load import DEFAULT_WINDOW

    if devices < 4 * DEFAULT_WINDOW:
        # The load generator stamps a whole in-flight window with one millisecond: a device appearing twice
        # in it would be one point in InfluxDB, counted as lost.
        raise ValueError(f"--devices must be at least {4 * DEFAULT_WINDOW} (the load generator's in-flight windows)")
    if messages < 1:
        raise ValueError("--messages must be positive")
    services: dict[str, int | None] = {"mosquitto": None, "influxdb": None}  # pids of the services we start
    with ExitStack() as stack:
        if mqtt_host is None:
            broker = Mosquitto(make_service_dir("bench-mosquitto"))
            stack.callback(discard_service, broker)
            broker.start()
            mqtt_host, mqtt_port = broker.host, broker.port
            services["mosquitto"] = broker.pid
        if influx_url is None:
            influx = InfluxDB(make_service_dir("bench-influxdb"))
            stack.callback(discard_service, influx)
            influx.start()
            influx_url = influx.url
            services["influxdb"] = influx.pid
        limit = _broker_limit(mqtt_host, mqtt_port, devices, messages, qos) if broker_limit else None
        work = Path(tempfile.mkdtemp(prefix="facmon-bench-"))
        stack.callback(shutil.rmtree, work, True)
        if collectors > 1:
            result = _processes_run(mqtt_host, mqtt_port, influx_url, devices, messages, work, collectors, services)
        else:
            result = _collector_run(mqtt_host, mqtt_port, influx_url, devices, messages, qos, work, services,
                                    protocol)
    result["broker_limit_msgs_per_s"] = limit
    result["ratio"] = round(result["msgs_per_s"] / limit, 3) if limit else None
    return result


def proc_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (utime + stime, its threads included) of process ``pid`` so far; None if unknown or gone."""
    import os

    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of several processes between ``start()`` and ``stop()``; a process that is unknown (None)
    or that disappears reads as None."""

    def __init__(self, readers: dict[str, Callable[[], float | None]]) -> None:
        self.readers = readers
        self.before: dict[str, float | None] = {}
        self.spent: dict[str, float | None] = {}

    def start(self) -> None:
        self.before = {name: read() for name, read in self.readers.items()}

    def stop(self) -> dict[str, float | None]:
        after = {name: read() for name, read in self.readers.items()}
        self.spent = {name: None if (b := self.before.get(name)) is None or (a := after[name]) is None else a - b
                      for name in self.readers}
        return self.spent


def cpu_us_per_msg(spent: dict[str, float | None], messages: int) -> dict[str, float | None]:
    """CPU seconds by process -> microseconds per message (None stays None)."""
    return {name: None if seconds is None or messages <= 0 else round(seconds / messages * 1e6, 1)
            for name, seconds in spent.items()}


def _broker_limit(host: str, port: int, devices: int, messages: int, qos: int) -> float:
    """Messages/s Mosquitto delivers to ``mosquitto_sub`` at ``qos`` for the same ``messages``."""
    from facmon.services import require_binary
    from simulators.load import count_timeout_s, run_load

    site = f"limit-{secrets.token_hex(3)}"
    sub = subprocess.Popen([require_binary("/usr/bin/mosquitto_sub", "mosquitto-clients"), "-h", host,
                            "-p", str(port), "-q", str(qos), "-t", f"facmon/v1/{site}/#", "-F", "%U"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stamps: list[str] = []
    reader = threading.Thread(target=lambda: stamps.extend(line for line in sub.stdout or ()), daemon=True)
    reader.start()
    time.sleep(0.5)  # subscribed
    load = run_load(host, port, devices, None, count_timeout_s(messages), qos=qos, site_id=site, messages=messages)
    expected = load.acknowledged if load.acknowledged is not None else load.sent
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while len(stamps) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    sub.terminate()
    sub.wait(5)
    reader.join(5)
    if len(stamps) < 2:
        return 0.0
    first, last = float(stamps[0]), float(stamps[-1])
    return round((len(stamps) - 1) / (last - first), 1) if last > first else 0.0


class BenchCollector:
    """The collector's ingest path alone (no API, no rules) into InfluxDB: MQTT -> spool -> store.

    Used by the benchmark and by the failure tests (tests/integration/test_ingest_*.py), in this process
    or as a child process (``python -m facmon.bench.ingest``) that a test can SIGKILL.
    """

    def __init__(self, host: str, port: int, influx_url: str, database: str, assets: list[Any], work: Path,
                 client_id: str, qos: int = 1, protocol: str = "3.1.1", shared_group: str | None = None) -> None:
        from collector.ingest import STORE, Ingest
        from collector.mqtt import MqttConsumer
        from collector.registry import AssetRegistry
        from collector.reprocess import build_decoder
        from collector.spool import Spool
        from core.clock import WallClock
        from core.settings import CollectorSettings, MqttSettings, TelemetrySettings
        from storage.records import Database
        from storage.telemetry import open_telemetry_store

        self.database = database
        work.mkdir(parents=True, exist_ok=True)
        self.db = Database(f"sqlite:///{work / 'records.sqlite3'}")
        self.db.upgrade()
        self.store = open_telemetry_store(TelemetrySettings(backend="influxdb", influx_url=influx_url,
                                                            influx_database=database))
        settings = CollectorSettings(spool_dir=work / "spool", batch_size=10_000, flush_interval_s=0.1,
                                     retry_max_s=2.0)
        clock = WallClock()
        spool = Spool(work / "spool", [STORE], settings.spool_max_bytes, settings.spool_segment_bytes)
        self.ingest = Ingest(build_decoder(AssetRegistry(lambda: assets), settings, clock), spool, self.store,
                             self.db.dead_letters, None, clock, settings)
        self.first_at: float | None = None
        mqtt = MqttSettings(host=host, port=port, client_id=client_id, protocol="5" if protocol == "5" else "3.1.1",
                            qos=1 if qos else 0, max_inflight=10_000, sparkplug=False, reconnect_min_s=0.2,
                            reconnect_max_s=2.0, shared_group=shared_group)
        self.consumer = MqttConsumer(mqtt, self._receive, self.ingest.connection_changed)
        self.ingest.attach(self.consumer.ack_many, self.consumer.publish)

    def _receive(self, messages: list[tuple[str, bytes, int, int]]) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.ingest.receive_many(messages)

    def start(self) -> None:
        self.ingest.start()
        self.consumer.start()

    def stop(self) -> None:
        self.consumer.stop()
        self.ingest.stop(drain_timeout_s=5)
        self.store.close()
        self.db.dispose()


def _service_meter(collector: Callable[[], float | None], services: dict[str, int | None]) -> CpuMeter:
    """CPU of the collector and of the services the bench started (None: not ours, not measured)."""
    return CpuMeter({"collector": collector, "mosquitto": lambda: proc_cpu_s(services.get("mosquitto")),
                     "influxdb": lambda: proc_cpu_s(services.get("influxdb"))})


def _collector_run(host: str, port: int, influx_url: str, devices: int, messages: int, qos: int,
                   work: Path, services: dict[str, int | None], protocol: str) -> dict[str, Any]:
    from simulators.load import count_timeout_s, load_assets, run_load

    token = secrets.token_hex(3)
    site, database = f"bench-{token}", f"bench_{token}"
    collector = BenchCollector(host, port, influx_url, database, load_assets(devices, site), work,
                               f"facmon-bench-{token}", qos, protocol)
    collector.start()
    meter = _service_meter(time.process_time, services)  # this process: the collector and the bench's loop
    threads0 = thread_cpu_s()
    meter.start()
    try:
        load = run_load(host, port, devices, None, count_timeout_s(messages), qos=qos, site_id=site,
                        messages=messages)
        published = load.acknowledged if load.acknowledged is not None else load.sent
        stats = collector.ingest.stats
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while stats.stored + sum(stats.rejected.values()) < published and time.monotonic() < deadline:
            time.sleep(0.02)
        done_at = time.monotonic()
        spent = meter.stop()
        by_thread = {name: cpu - threads0.get(name, 0.0) for name, cpu in thread_cpu_s().items()}
    finally:
        collector.stop()
    points = count_points(influx_url, database, site)
    seconds = done_at - collector.first_at if collector.first_at is not None else 0.0
    return {"benchmark": "ingest", "qos": qos, "mqtt_protocol": protocol, "messages": published,
            "seconds": round(seconds, 3),
            "msgs_per_s": round(published / seconds, 1) if seconds > 0 else 0.0,
            "lost": max(0, published - points), "duplicated": max(0, points - published),
            "points_in_influxdb": points, "collector_received": stats.received,
            "redelivered": max(0, stats.received - published), "rejected": sum(stats.rejected.values()),
            "store_errors": stats.store_errors, "publisher_msgs_per_s": load.achieved_rate,
            "cpu_us_per_msg": cpu_us_per_msg({**spent, "load_generator": load.cpu_s}, published),
            "collector_cpu_us_per_msg_by_thread": cpu_us_per_msg(dict(by_thread), published) if published else {},
            "devices": devices}


def _processes_run(host: str, port: int, influx_url: str, devices: int, messages: int, work: Path,
                   collectors: int, services: dict[str, int | None]) -> dict[str, Any]:
    """``collectors`` child processes (``main``) on one shared subscription; done when InfluxDB holds every
    acknowledged message. ``seconds`` runs from the first point seen in InfluxDB (polled every 0.1 s)."""
    import sys

    from simulators.load import count_timeout_s, run_load

    token = secrets.token_hex(3)
    site, database = f"bench-{token}", f"bench_{token}"
    children = [subprocess.Popen([sys.executable, "-m", "facmon.bench.ingest", host, str(port), influx_url,
                                  database, site, str(devices), str(work / f"c{n}"), f"facmon-bench-{token}-{n}",
                                  f"bench-{token}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for n in range(collectors)]
    try:
        for child in children:
            if child.stdout is None or child.stdout.readline().strip() != "ready":
                raise RuntimeError("a collector process did not start")
        first_at: list[float] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set() and not first_at:
                if count_points(influx_url, database, site) > 0:
                    first_at.append(time.monotonic())
                stop.wait(0.1)

        def children_cpu_s() -> float | None:
            spent = [proc_cpu_s(child.pid) for child in children]
            return None if None in spent else sum(s for s in spent if s is not None)

        meter = _service_meter(children_cpu_s, services)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        meter.start()
        load = run_load(host, port, devices, None, count_timeout_s(messages), qos=1, site_id=site,
                        messages=messages)
        published = load.acknowledged or 0
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while (points := count_points(influx_url, database, site)) < published and time.monotonic() < deadline:
            time.sleep(0.1)
        done_at = time.monotonic()
        spent = meter.stop()
        stop.set()
    finally:
        for child in children:
            if child.stdin is not None:
                child.stdin.close()
        for child in children:
            child.wait(30)
    seconds = done_at - first_at[0] if first_at else 0.0
    return {"benchmark": "ingest", "qos": 1, "collectors": collectors, "messages": published,
            "seconds": round(seconds, 3), "msgs_per_s": round(published / seconds, 1) if seconds > 0 else 0.0,
            "lost": max(0, published - points), "duplicated": max(0, points - published),
            "points_in_influxdb": points, "publisher_msgs_per_s": load.achieved_rate,
            "cpu_us_per_msg": cpu_us_per_msg({**spent, "load_generator": load.cpu_s}, published), "devices": devices}


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name (Linux /proc)."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    result: dict[str, float] = {}
    for tid, name in names.items():
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        key = "paho-mqtt" if name.startswith("paho-mqtt") else name
        result[key] = result.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return result


def count_points(influx_url: str, database: str, site: str) -> int:
    """Points of one metric every load message carries, for ``site`` (one point per message)."""
    response = httpx.get(f"{influx_url}/query", params={
        "db": database, "q": f"SELECT count(flow_m3h) FROM pump WHERE site = '{site}'"}, timeout=60)
    response.raise_for_status()
    series = response.json()["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def main(argv: list[str] | None = None) -> None:
    """A collector child process: ``python -m facmon.bench.ingest HOST PORT INFLUX_URL DATABASE SITE DEVICES
    WORK CLIENT_ID [SHARED_GROUP]``; prints ``ready`` once connected, runs until killed or stdin closes."""
    import sys

    from simulators.load import load_assets

    args = argv if argv is not None else sys.argv[1:]
    host, port, url, database, site, devices, work, client_id = args[:8]
    group = args[8] if len(args) > 8 else None
    collector = BenchCollector(host, int(port), url, database, load_assets(int(devices), site), Path(work),
                               client_id, protocol="5" if group else "3.1.1", shared_group=group)
    collector.start()
    print("ready", flush=True)  # noqa: T201
    sys.stdin.read()  # the parent closes stdin to ask for a clean stop (or SIGKILLs us)
    collector.stop()


if __name__ == "__main__":
    main()
