"""Two site partitions and a standby as plain `facmon serve` processes (the settings deploy/compose.yaml
uses) on real Mosquitto, PostgreSQL and InfluxDB: a partition SIGKILLed mid-stream is taken over by its
standby, no reading is lost, no alarm is raised twice, and a half-elapsed on-delay completes on time.

The processes are launched by facmon.bench.scale_topology, the module `facmon bench scale` measures with.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from facmon.bench.scale_faults import (
    FAULT_PERIOD_S,
    FaultPublisher,
    bench_rule_text,
    overheat_alarms,
)
from facmon.bench.scale_scenario import Scenario, count_points
from facmon.bench.scale_topology import Topology, member_name
from facmon.services import InfluxDB, Mosquitto, Postgres

pytestmark = pytest.mark.integration

ON_DELAY_S = 6.0  # the fault's on-delay; partition 0 dies half way through it
LEASE_S = 2.0  # the standby may take the partition this long after the last renewal
LOAD_S = 14.0
LOAD_RATE = 150.0  # readings/s over every site, next to the fault


def _wait_for(condition: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture
def records_url(postgres: Postgres) -> Any:
    dbname = f"t_parts_{secrets.token_hex(4)}"
    postgres.create_database(dbname)
    yield postgres.url_for(dbname)
    postgres.drop_database(dbname)


def test_a_killed_partition_is_taken_over_by_its_standby_without_loss_or_a_second_alarm(
        mosquitto: Mosquitto, influxdb: InfluxDB, records_url: str, tmp_path: Path) -> None:
    from simulators.load import run_load

    scenario = Scenario(partitions=2, sites=4, devices=120, seconds=LOAD_S, faults_per_partition=0)
    scenario.register(records_url)
    fault = scenario.takeover  # a pump on a site partition 0 owns
    fault.start_s, fault.hot_s = 1.0, LOAD_S - 2.0
    rules = tmp_path / "rules.yaml"
    rules.write_text(bench_rule_text(ON_DELAY_S))
    telemetry = f"t_parts_{secrets.token_hex(4)}"
    topology = Topology(tmp_path / "topology", mosquitto.host, mosquitto.port, records_url,
                        {"backend": "influxdb", "influx_url": influxdb.url, "influx_database": telemetry},
                        partitions=2, standbys=(0,), rules_files=[rules],
                        extra={"partition": {"lease_s": LEASE_S, "refresh_s": 1.0}})
    try:
        topology.start()
        faults = FaultPublisher(mosquitto.host, mosquitto.port, [fault])
        loads: list[Any] = []
        loader = threading.Thread(target=lambda: loads.append(run_load(
            mosquitto.host, mosquitto.port, scenario.devices, LOAD_RATE, LOAD_S, processes=1, connections=1,
            window=20, site_id=scenario.site_prefix, sites=scenario.site_count)))
        faults.start()
        loader.start()
        _wait_for(lambda: fault.first_hot_at is not None, 10, "the first hot reading")
        time.sleep(ON_DELAY_S / 2)
        assert overheat_alarms(records_url) == [], "the on-delay has not elapsed yet"
        assert topology.holder(0) == member_name(0)  # the primary ingests, its standby waits
        assert not topology.ingesting(member_name(0, standby=True))
        topology.kill(member_name(0))  # half way through the on-delay

        # The standby takes partition 0 and completes the on-delay that began before the kill.
        alarms = _wait_for(lambda: overheat_alarms(records_url), ON_DELAY_S + LEASE_S + 20,
                           "the standby to raise the alarm")
        assert topology.holder(0) == member_name(0, standby=True)
        loader.join()
        faults.stop()
        published = loads[0].acknowledged + faults.acknowledged
        assert loads[0].acknowledged == loads[0].sent
        assert faults.acknowledged == faults.sent

        # The orchestrator restarts the killed process (its spool volume back): what it had spooled is written.
        topology.start(member_name(0))
        deadline = time.monotonic() + 60
        while (points := count_points(influxdb.url, telemetry)) < published and time.monotonic() < deadline:
            time.sleep(0.2)
        assert points == published  # nothing lost (InfluxDB holds one point per reading)

        alarms = overheat_alarms(records_url)
        assert [asset for asset, _ in alarms] == [fault.asset]  # raised once, by one process
        assert fault.first_hot_at is not None
        delay = alarms[0][1] - fault.first_hot_at
        # On time: completed by the reading that ends the on-delay counted from the first hot reading,
        # not restarted at the takeover (which would be at least ON_DELAY_S / 2 later).
        assert timedelta(seconds=ON_DELAY_S) <= delay <= timedelta(seconds=ON_DELAY_S + 2 * FAULT_PERIOD_S)
    finally:
        topology.stop_all()
