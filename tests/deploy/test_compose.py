"""deploy/compose.yaml: valid by the compose specification's schema, and a topology facmon's settings accept:
partitions with distinct indexes below their count covering every site once, standbys sharing their
partition's settings and spool, the API with the scheduler, events through PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.partitions import Ownership, coverage
from core.settings import Settings
from simulators.portfolio import load_portfolio
from tests.deploy.deployment import COMPOSE, DEPLOY, read_yaml, service_environment, settings_of, unknown_names

CONFIG_IN_CONTAINER = "/etc/facmon/facmon.toml"


def compose() -> dict[str, Any]:
    return read_yaml(COMPOSE)  # type: ignore[no-any-return]


def facmon_services() -> dict[str, dict[str, Any]]:
    """The services running facmon's image (the migration included)."""
    return {name: service for name, service in compose()["services"].items() if service["image"].startswith("facmon:")}


def bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path (relative to deploy/) or volume name."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        mounts[target] = source
    return mounts


def config_file(service: dict[str, Any]) -> Path:
    return DEPLOY / bind_mounts(service)[CONFIG_IN_CONTAINER]


def settings(name: str) -> Settings:
    """What compose service ``name``'s facmon process loads."""
    return settings_of(config_file(compose()["services"][name]), service_environment(name))


def servers() -> dict[str, dict[str, Any]]:
    """The services running ``facmon serve`` (the image's command), not the migration."""
    return {name: service for name, service in facmon_services().items() if "command" not in service}


def partitions() -> dict[str, dict[str, Any]]:
    return {name: service for name, service in servers().items() if "ingest" in settings(name).serve.roles}


def validate_compose_file(path: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships the compose-spec schema (vendor.compose-spec), kept in step with upstream.
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(path)], capture_output=True, text=True, timeout=60)


def test_the_compose_file_follows_the_compose_specification() -> None:
    result = validate_compose_file(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_misspelt_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n      test:", "    healthcheck:\n      tset:", 1))
    result = validate_compose_file(broken)
    assert result.returncode != 0
    assert "tset" in result.stdout + result.stderr


def test_every_facmon_service_loads_its_settings_from_the_file_and_its_environment() -> None:
    services = facmon_services()
    assert set(services) >= {"migrate", "ingest-0", "ingest-1", "ingest-0-standby", "ingest-1-standby", "api"}
    for name in services:
        loaded = settings(name)
        assert loaded.database.url.startswith("postgresql+psycopg://")
        assert loaded.telemetry.backend == "influxdb"
        assert loaded.events.channel == "postgresql"
        assert loaded.mqtt.host in compose()["services"]
        assert loaded.telemetry.influx_url.removeprefix("http://").split(":")[0] in compose()["services"]
        assert loaded.database.url.split("@")[1].split("/")[0] in compose()["services"]


def test_a_misspelt_variable_is_caught_even_where_pydantic_settings_ignores_it() -> None:
    assert unknown_names({"FACMON_PARTITON__INDEX": "0", "FACMON_PARTITION__INDXE": "0", "FACMON_PORTFOLIO": "x",
                          "FACMON_PARTITION__INDEX": "0", "FACMON_DATABASE__URL": "x"}) == [
        "FACMON_PARTITON__INDEX", "FACMON_PARTITION__INDXE"]


def test_two_partitions_have_distinct_indexes_below_their_count_and_cover_every_site_once() -> None:
    primaries = {name: settings(name).partition for name, service in partitions().items()
                 if "standby" not in service.get("profiles", [])}
    assert sorted(partition.name for partition in primaries.values()) == ["p0-of-2", "p1-of-2"]
    for partition in primaries.values():
        assert partition.index is not None
        assert partition.count == len(primaries)
    portfolio = load_portfolio(DEPLOY / bind_mounts(compose()["services"]["api"])["/etc/facmon/portfolio.yaml"])
    claims = {partition.name: Ownership.of(partition) for partition in primaries.values()}
    sites = [site.id for site in portfolio.sites]
    assert coverage(claims, sites).complete
    assert all(any(claim.owns(site) for site in sites) for claim in claims.values())  # none idle


def test_each_partition_has_its_own_spool_and_its_standby_shares_it_with_the_same_settings() -> None:
    services = partitions()
    spool = "/var/lib/facmon/spool"
    primaries = {name: service for name, service in services.items() if "standby" not in service.get("profiles", [])}
    volumes = [bind_mounts(service)[spool] for service in primaries.values()]
    assert len(set(volumes)) == len(primaries)
    assert all(volume in compose()["volumes"] for volume in volumes)
    for name, primary in primaries.items():
        standby = services[f"{name}-standby"]
        assert standby["profiles"] == ["standby"]
        assert bind_mounts(standby)[spool] == bind_mounts(primary)[spool]
        assert settings(f"{name}-standby").model_dump() == settings(name).model_dump()
        assert str(settings(name).collector.spool_dir) == spool


def test_the_api_process_runs_the_api_and_the_scheduler_and_no_partition() -> None:
    api = compose()["services"]["api"]
    loaded = settings("api")
    assert sorted(loaded.serve.roles) == ["api", "scheduler"]
    assert loaded.partition.index is None
    assert not loaded.partition.sites
    assert loaded.auth.required  # it listens beyond loopback
    assert f"{loaded.api.port}:{loaded.api.port}" in api["ports"]


def test_services_are_health_checked_and_start_after_what_they_need() -> None:
    services = compose()["services"]
    for name, service in services.items():
        check = service["healthcheck"]
        assert check.get("disable") or check["test"][0] == "CMD", name
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on an unknown service {needed}"
    assert facmon_services()["migrate"]["command"][:2] == ["db", "upgrade"]
    for name, service in servers().items():
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        port = settings(name).api.port
        assert f"127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"]), name


def test_every_mounted_file_and_named_volume_exists() -> None:
    declared = compose()["volumes"]
    for name, service in compose()["services"].items():
        for source in bind_mounts(service).values():
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name}: {source} is missing"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


@pytest.mark.parametrize("line", ["max_queued_messages 1000000", "persistence true"])
def test_the_broker_queues_for_a_collector_that_is_away(line: str) -> None:
    # Mosquitto's default of 1,000 queued messages drops a partition's backlog during a takeover.
    mounts = bind_mounts(compose()["services"]["mosquitto"])
    conf = (DEPLOY / mounts["/mosquitto/config/mosquitto.conf"]).read_text().splitlines()
    assert line in conf
