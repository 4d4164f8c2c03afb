"""The scale bench's pieces that need no process: each member's settings as `facmon serve` loads them, the
bench rule, the load spread over sites, and what counts as an alarm raised twice."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from core.partitions import Ownership, coverage
from core.settings import Settings, load_settings
from facmon.bench.scale_faults import RULE_ID, bench_rule_text, duplicate_alarms
from facmon.bench.scale_scenario import Scenario
from facmon.bench.scale_topology import Topology, member_name
from rules.pack import parse_rules
from simulators.load import load_assets, load_sites


def _loaded(topology: Topology, name: str) -> Settings:
    member = topology.members[name]
    with mock.patch.dict(os.environ, member.env):
        return load_settings(member.config)


def test_each_member_loads_its_partition_roles_port_and_spool(tmp_path: Path) -> None:
    topology = Topology(tmp_path, "127.0.0.1", 1883, "postgresql+psycopg://postgres@127.0.0.1:5432/facmon",
                        {"backend": "influxdb", "influx_url": "http://127.0.0.1:8086"}, partitions=3, standbys=(0,),
                        extra={"partition": {"lease_s": 2.0}})
    assert list(topology.members) == ["p0", "p0-standby", "p1", "p2", "api"]
    loaded = {name: _loaded(topology, name) for name in topology.members}
    partitions = [loaded[member_name(i)].partition for i in range(3)]
    assert [p.name for p in partitions] == ["p0-of-3", "p1-of-3", "p2-of-3"]
    assert all(p.lease_s == 2.0 for p in partitions)
    assert all(loaded[member_name(i)].serve.roles == ["ingest"] for i in range(3))
    assert loaded["api"].serve.roles == ["api", "scheduler"]
    assert loaded["api"].partition.name == "all"
    assert all(settings.events.channel == "postgresql" for settings in loaded.values())
    # The standby is its primary with another port: same partition, MQTT session and spool.
    primary, standby = loaded["p0"], loaded["p0-standby"]
    assert standby.partition == primary.partition
    assert standby.mqtt.client_id == primary.mqtt.client_id
    assert standby.collector.spool_dir == primary.collector.spool_dir
    assert standby.api.port != primary.api.port
    assert len({s.api.port for s in loaded.values()}) == len(loaded)
    assert len({loaded[member_name(i)].collector.spool_dir for i in range(3)}) == 3
    # Between them the partitions own every site once.
    sites = [f"site-{n}" for n in range(50)]
    assert coverage({p.name: Ownership.of(p) for p in partitions}, sites).complete


def test_the_bench_rule_raises_after_its_on_delay() -> None:
    (rule,) = parse_rules(bench_rule_text(6.0))
    assert rule.id == RULE_ID
    assert rule.for_.total_seconds() == 6.0


def test_the_load_spreads_its_pumps_evenly_over_the_sites() -> None:
    assets = load_assets(120, "s", sites=4)
    assert {asset.site_id for asset in assets} == set(load_sites("s", 4)) == {"s-000", "s-001", "s-002", "s-003"}
    assert all(sum(asset.site_id == site for asset in assets) == 30 for site in load_sites("s", 4))
    assert {asset.site_id for asset in load_assets(10, "s")} == {"s"}


def test_every_partition_owns_a_site_and_faults_land_on_their_partitions_sites() -> None:
    scenario = Scenario(partitions=3, sites=6, devices=60, seconds=30, faults_per_partition=1)
    assert set(scenario.owner.values()) == {0, 1, 2}
    assert sorted(scenario.owner[fault.site] for fault in scenario.faults) == [0, 1, 2]
    assert all(scenario.owner[fault.site] == 0 for fault in scenario.takeovers)


def test_a_second_episode_for_one_pump_counts_as_a_duplicate() -> None:
    at = datetime(2026, 12, 5, tzinfo=UTC)
    assert duplicate_alarms([("a", at), ("b", at)]) == 0
    assert duplicate_alarms([("a", at), ("b", at), ("a", at)]) == 1
