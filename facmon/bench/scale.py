"""`facmon bench scale`: K site partitions on one broker, one PostgreSQL and one InfluxDB (one JSON object).

Starts Mosquitto, PostgreSQL 15 (durable) and InfluxDB 1.x (facmon.services), migrates the records database
and registers ``--sites`` sites of load pumps plus one fault pump per site, then the topology of
facmon.bench.scale_topology: K ``facmon serve`` processes (``[partition] index=i count=K``, roles
``ingest``), with ``--standby`` one standby each, and one api+scheduler process. The load generator
(simulators.load, QoS 1, per-device ``seq``) publishes for ``--seconds`` over the sites while
facmon.bench.scale_faults runs scheduled hot-bearing faults (one per partition and more, spread over the
run) that the rule ``bench_overheat`` turns into alarms. With ``--standby``, partition 0 is SIGKILLed half
way and a fault starts at once on one of its sites: ``takeover_s`` is the time from the kill until that
alarm is in the database (raised by the standby; it includes the rule's on-delay, ``rule_delay_s``). The
killed process is then started again, as an orchestrator would, so what it had spooled is written.

Counted: ``lost`` = readings the broker acknowledged to the publishers minus points in InfluxDB (one per
reading: every device's timestamps are distinct); ``duplicated`` = readings the partitions wrote to the
store (their ``facmon_collector_readings_stored`` counters; InfluxDB itself would fold a duplicate into one
point) minus those published; ``duplicate_alarms`` = ``bench_overheat`` episodes raised twice for one pump.

The core budget (``method`` in the JSON): on this 2-core machine the partitions share the cores with the
broker, the databases and the publisher, so the wall-clock total cannot grow with K. Each partition's
``readings_per_core_s`` = readings it stored / CPU seconds its process used (utime + stime from /proc): what
it would take per second on a core of its own. ``projected_readings_per_s`` sums that over the partitions;
K=2 scaling = projected(K=2) / projected(K=1) from two runs, with nothing lost and no alarm twice.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from facmon.bench.scale_faults import Fault, FaultPublisher, bench_rule_text, duplicate_alarms, overheat_alarms
from facmon.bench.scale_scenario import DATABASE, Scenario, count_points, progress, session_cpu_s
from facmon.bench.scale_takeover import kill_and_time
from facmon.bench.scale_topology import Topology, member_name

DRAIN_TIMEOUT_S = 180.0
RULE_DELAY_S = 2.0
LOAD_WINDOW = 1000  # QoS 1 messages in flight per load connection; devices >= 4 x this (distinct timestamps)
METHOD = ("readings_per_core_s = readings a partition stored / CPU seconds of its process (/proc utime+stime); "
          "projected_readings_per_s = sum over partitions (each on a core of its own); scaling = "
          "projected(K) / projected(1) of two runs; broker, databases and publisher excluded")


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("scale", help="K site partitions on one broker and databases (one JSON object)")
    bench.add_argument("--partitions", type=int, default=2, help="ingest partitions K (default 2)")
    bench.add_argument("--standby", action="store_true",
                       help="one standby per partition; partition 0 is SIGKILLed half way (takeover_s)")
    bench.add_argument("--seconds", type=float, default=30.0, help="how long the load publishes")
    bench.add_argument("--sites", type=int, default=20, help="sites the load is spread over")
    bench.add_argument("--devices", type=int, default=4 * LOAD_WINDOW, help="load pumps over all sites")
    bench.add_argument("--rate", type=float, default=20_000.0,
                       help="readings/s the load asks for in total (the broker queues what the partitions lag)")
    bench.add_argument("--lease-s", type=float, default=15.0, help="partition.lease_s (default: the setting's)")
    bench.add_argument("--no-api", action="store_true", help="no api+scheduler process")
    bench.add_argument("--baseline", type=Path, default=None,
                       help="the JSON of an earlier run (K=1): adds scaling = projected / its projected")
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = bench_scale(args.partitions, args.standby, args.seconds, args.sites, args.devices, args.rate,
                         api=not args.no_api, lease_s=args.lease_s)
    if args.baseline is not None:
        baseline = json.loads(args.baseline.read_text())
        ratio = result["projected_readings_per_s"] / baseline["projected_readings_per_s"]
        result["scaling"] = {"baseline_partitions": baseline["partitions"], "ratio": round(ratio, 3)}
    print(json.dumps(result))  # noqa: T201
    return 0 if result["lost"] == 0 and result["duplicate_alarms"] == 0 and result["missed_alarms"] == 0 else 1


def bench_scale(partitions: int, standby: bool, seconds: float, sites: int, devices: int, rate: float | None,
                api: bool = True, lease_s: float = 15.0) -> dict[str, Any]:
    from facmon.services import InfluxDB, Mosquitto, Postgres, discard_service, make_service_dir

    if partitions < 1 or sites < partitions or seconds <= 0:
        raise ValueError("--partitions >= 1, --sites >= --partitions and --seconds > 0")
    if devices < 4 * LOAD_WINDOW:
        raise ValueError(f"--devices must be at least {4 * LOAD_WINDOW} (distinct timestamps per device)")
    with ExitStack() as stack:
        services = []
        for factory, name in ((Mosquitto, "mosquitto"), (lambda d: Postgres(d, durable=True), "postgres"),
                              (InfluxDB, "influxdb")):
            service = factory(make_service_dir(f"scale-{name}"))
            stack.callback(discard_service, service)
            service.start()
            services.append(service)
        broker, postgres, influx = services
        assert isinstance(broker, Mosquitto)
        assert isinstance(postgres, Postgres)
        assert isinstance(influx, InfluxDB)
        progress(f"services up: mosquitto :{broker.port}, postgres :{postgres.port}, influxdb :{influx.port}")
        postgres.create_database(DATABASE)
        work = Path(tempfile.mkdtemp(prefix="facmon-bench-scale-"))
        stack.callback(shutil.rmtree, work, True)
        scenario = Scenario(partitions, sites, devices, seconds)
        scenario.register(postgres.url_for(DATABASE))
        rules = work / "bench_rules.yaml"
        rules.write_text(bench_rule_text(RULE_DELAY_S))
        topology = Topology(work / "topology", broker.host, broker.port, postgres.url_for(DATABASE),
                            {"backend": "influxdb", "influx_url": influx.url, "influx_database": DATABASE},
                            partitions=partitions,
                            standbys=tuple(range(partitions)) if standby else (), rules_files=[rules], api_process=api,
                            extra={"partition": {"lease_s": lease_s}})
        stack.callback(topology.stop_all)
        progress(f"starting {', '.join(topology.members)}")
        topology.start()
        run = Run(scenario, topology, influx.url, broker.host, broker.port, rate)
        run.services = {"mosquitto": broker.pid, "influxdb": influx.pid, "postgres": postgres.pid}
        return run.measure(standby)
    raise AssertionError("unreachable")


class Run:
    """One measured run over a started topology."""

    def __init__(self, scenario: Scenario, topology: Topology, influx_url: str, host: str, port: int,
                 rate: float | None) -> None:
        self.scenario, self.topology, self.influx_url = scenario, topology, influx_url
        self.host, self.port, self.rate = host, port, rate
        # (member, pid) -> last seen (CPU seconds, readings stored), and the same at the run's start (a process
        # started later, e.g. a killed one restarted, starts from zero): a member's figure sums its processes.
        self.seen: dict[tuple[str, int], tuple[float, float]] = {}
        self.base: dict[tuple[str, int], tuple[float, float]] = {}
        self.rss_mb: dict[str, float] = {}  # member -> the highest peak RSS of its processes
        self.services: dict[str, int | None] = {}  # the broker's and databases' pids, for their CPU
        self.services_cpu: dict[str, float | None] = {}
        self.load_published = 0  # readings published while the counters were sampled (not the quiet takeover)
        self._sampling = threading.Event()

    def _sample(self) -> None:
        """Keep each process's last CPU seconds and stored readings (a SIGKILLed one keeps its last sample)."""
        for name, member in self.topology.members.items():
            pid = member.pid
            cpu = self.topology.cpu_s(name)
            if pid is None or cpu is None:
                continue
            stored = self.topology.counters(name).get("facmon_collector_readings_stored")
            rss = self.topology.peak_rss_mb(name)
            if rss is not None:
                self.rss_mb[name] = max(rss, self.rss_mb.get(name, 0.0))
            last = self.seen.get((name, pid), (0.0, 0.0))
            self.seen[(name, pid)] = (cpu, last[1] if stored is None else stored)

    def _sampler(self) -> None:
        while not self._sampling.wait(0.5):
            self._sample()

    def measure(self, standby: bool) -> dict[str, Any]:
        from simulators.load import run_load

        scenario = self.scenario
        self._sample()
        self.base = dict(self.seen)
        services0 = {name: session_cpu_s(pid) for name, pid in self.services.items()}
        threading.Thread(target=self._sampler, name="bench-sampler", daemon=True).start()
        faults = FaultPublisher(self.host, self.port, list(scenario.faults))
        load_result: list[Any] = []
        loader = threading.Thread(target=lambda: load_result.append(run_load(
            self.host, self.port, scenario.devices, self.rate, scenario.seconds, qos=1, window=LOAD_WINDOW,
            site_id=scenario.site_prefix, sites=scenario.site_count)), name="bench-load", daemon=True)
        started = time.monotonic()
        progress(f"publishing for {scenario.seconds:.0f} s over {len(scenario.sites)} sites")
        faults.start()
        loader.start()
        takeovers: dict[str, float | None] = {}
        if standby:
            time.sleep(scenario.seconds / 2)
            takeovers["takeover_under_load_s"] = self._takeover(faults, scenario.takeovers[0], "under load")
        loader.join()
        faults.stop()
        load = load_result[0]
        published = self.load_published = (load.acknowledged or 0) + faults.acknowledged
        progress(f"published {published} readings ({load.achieved_rate:.0f}/s); waiting for the store")
        points, done_at = self._drain(published)
        self._sampling.set()
        self._sample()
        self.services_cpu = {name: None if (before := services0[name]) is None or (after := session_cpu_s(pid)) is None
                             else round(after - before, 2) for name, pid in self.services.items()}
        if standby:  # again with nothing queued: the takeover alone
            quiet = FaultPublisher(self.host, self.port)
            quiet.start()
            takeovers["takeover_s"] = self._takeover(quiet, scenario.takeovers[1], "quiet")
            quiet.stop()
            published += quiet.acknowledged
            points, _ = self._drain(published, timeout_s=60.0)
        alarms = overheat_alarms(self.topology.database_url)
        return {**self._result(load, published, points, done_at - started, alarms),
                "takeover_s": takeovers.get("takeover_s"),
                "takeover_under_load_s": takeovers.get("takeover_under_load_s")}

    def _takeover(self, publisher: FaultPublisher, fault: Fault, phase: str) -> float | None:
        """SIGKILL partition 0's holder, time its standby's alarm; then restart the killed process, as an
        orchestrator would (it stands by for the next takeover)."""
        self._sample()
        killed, took = kill_and_time(self.topology, publisher, fault, 2 * self.scenario.seconds + 60)
        progress(f"{phase}: SIGKILLed {killed}; the standby's alarm came after {took} s")
        self.topology.start(killed)
        return took

    def _drain(self, published: int, timeout_s: float = DRAIN_TIMEOUT_S) -> tuple[int, float]:
        """Until InfluxDB holds ``published`` points (or nothing changed for 20 s, or the timeout)."""
        deadline = time.monotonic() + timeout_s
        points, changed_at = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_points = self._points()
            if now_points != points:
                points, changed_at = now_points, time.monotonic()
            if points >= published or time.monotonic() - changed_at > 20:
                break
            time.sleep(0.2)
        return points, changed_at  # when the store reached its final count

    def _points(self) -> int:
        return count_points(self.influx_url, DATABASE)

    def _members(self, seconds: float) -> dict[str, dict[str, Any]]:
        """Each member's stored readings, CPU seconds over the run, readings/s and readings per CPU second."""
        members: dict[str, dict[str, Any]] = {}
        for name in self.topology.members:
            spent = [(cpu - self.base.get(key, (0.0, 0.0))[0], stored - self.base.get(key, (0.0, 0.0))[1])
                     for key, (cpu, stored) in self.seen.items() if key[0] == name]
            cpu, stored = round(sum(c for c, _ in spent), 2), sum(r for _, r in spent)
            members[name] = {"stored": int(stored), "cpu_s": cpu,
                             "readings_per_s": round(stored / seconds, 1) if seconds > 0 else 0.0,
                             "readings_per_core_s": round(stored / cpu, 1) if cpu > 0 else None}
        return members

    def _partitions(self, members: dict[str, dict[str, Any]], seconds: float) -> dict[str, dict[str, Any]]:
        """Per partition (its primary and standby together): readings stored, per second, per CPU second."""
        result: dict[str, dict[str, Any]] = {}
        for index in range(self.scenario.partitions):
            own = [value for name, value in members.items() if name in (member_name(index),
                                                                         member_name(index, standby=True))]
            stored, cpu = sum(value["stored"] for value in own), sum(value["cpu_s"] for value in own)
            result[member_name(index)] = {"readings_per_s": round(stored / seconds, 1) if seconds > 0 else 0.0,
                                          "readings_per_core_s": round(stored / cpu, 1) if cpu > 0 else None}
        return result

    def _cpu_per_reading(self, partitions: dict[str, dict[str, Any]]) -> dict[str, float | None]:
        """CPU microseconds per reading of the partitions (their mean) and of each service (what saturates
        first when partitions are added: the figure that does not shrink with K)."""
        per_core = [value["readings_per_core_s"] for value in partitions.values() if value["readings_per_core_s"]]
        spent = {name: None if cpu is None or not self.load_published else round(cpu / self.load_published * 1e6, 1)
                 for name, cpu in self.services_cpu.items()}
        return {"partition": round(1e6 / (sum(per_core) / len(per_core)), 1) if per_core else None, **spent}

    def _result(self, load: Any, published: int, points: int, seconds: float,
                alarms: list[Any]) -> dict[str, Any]:
        members = self._members(seconds)
        partitions = self._partitions(members, seconds)
        raised = {asset for asset, _ in alarms}
        expected = [fault.asset for fault in self.scenario.faults]
        return {
            "benchmark": "scale", "partitions": self.scenario.partitions,
            "standby": member_name(0, standby=True) in self.topology.members, "sites": len(self.scenario.sites),
            "sites_per_partition": {member_name(index): sum(owner == index for owner in self.scenario.owner.values())
                                    for index in range(self.scenario.partitions)},
            "devices": self.scenario.devices, "seconds": round(seconds, 3), "published": published,
            "readings_per_s": {"total": round(published / seconds, 1) if seconds > 0 else 0.0,
                               "per_partition": {name: value["readings_per_s"] for name, value in partitions.items()}},
            "lost": max(0, published - points),
            "duplicated": max(0, sum(value["stored"] for value in members.values()) - self.load_published),
            "points_in_influxdb": points, "duplicate_alarms": duplicate_alarms(alarms),
            "alarms_expected": len(expected), "missed_alarms": sum(asset not in raised for asset in expected),
            "rule_delay_s": RULE_DELAY_S, "lease_s": self.topology.lease_s,
            "cpu_s": {name: value["cpu_s"] for name, value in members.items()},
            "stored": {name: value["stored"] for name, value in members.items()},
            "peak_rss_mb": self.rss_mb, "services_cpu_s": self.services_cpu,
            "cpu_us_per_reading": self._cpu_per_reading(partitions),
            "readings_per_core_s": {name: value["readings_per_core_s"] for name, value in partitions.items()},
            "projected_readings_per_s": round(sum(value["readings_per_core_s"] or 0.0
                                                  for value in partitions.values()), 1),
            "method": METHOD, "publisher_msgs_per_s": load.achieved_rate, "load_cpu_s": load.cpu_s}
