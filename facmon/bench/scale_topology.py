"""The partitioned topology as plain processes: K ``facmon serve`` ingest partitions (each optionally with a
standby), one api+scheduler process, all on one broker, one records database and one telemetry store.

Shared by ``facmon bench scale`` and tests/integration/test_partitions.py, so the benchmark measures the
topology the test checks, with the settings the deployment files use (deploy/compose.yaml): partition
``i`` of ``K`` by ``[partition] index/count``, ``[serve] roles``, ``[events] channel = "postgresql"``, one
spool directory, MQTT client id and ``api.port`` per process. Each process has its own TOML file; a standby
runs the *same* file as its partition's primary (same MQTT client id, hence the partition's session, and
the same spool directory, which it takes over with the lease) with only ``api.port`` overridden through the
environment (two processes on one host cannot share a port). The records database is migrated once (by
the caller, before any process starts: K+1 processes migrating at once would race on the schema).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from facmon.bench.ingest import proc_cpu_s
from facmon.broker import free_port

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
API = "api"


def member_name(index: int, standby: bool = False) -> str:
    """``p0``, ``p0-standby``, ...: the process's name in the topology (and in the bench's JSON)."""
    return f"p{index}-standby" if standby else f"p{index}"


def toml_text(sections: dict[str, dict[str, Any]]) -> str:
    """A TOML file of flat sections; values are strings, numbers, booleans or lists of them (JSON's
    spelling of those is TOML's too)."""
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(str(value) if isinstance(value, Path) else value)}"
                  for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


@dataclass
class Member:
    """One ``facmon serve`` process: its settings file, the environment it adds, its port and work folder."""

    name: str
    config: Path
    env: dict[str, str]
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Topology:
    """``partitions`` ingest partitions (those in ``standbys`` with a standby) and one api+scheduler process.

    ``telemetry`` is the ``[telemetry]`` section (InfluxDB for the bench); ``rules_files`` are added to the
    default pack of every process; ``extra`` adds sections or keys to every process's TOML (a test's short
    lease, for one)."""

    root: Path
    mqtt_host: str
    mqtt_port: int
    database_url: str
    telemetry: dict[str, Any]
    partitions: int = 1
    standbys: tuple[int, ...] = ()
    rules_files: list[Path] = field(default_factory=list)
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    api_process: bool = True
    members: dict[str, Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for index in range(self.partitions):
            primary = self._partition(index)
            self.members[primary.name] = primary
            if index in self.standbys:
                name = member_name(index, standby=True)
                port = free_port()
                self.members[name] = Member(name, primary.config, {"FACMON_API__PORT": str(port)}, port,
                                            self.root / name)
        if self.api_process:
            self.members[API] = self._member(API, {"serve": {"roles": ["api", "scheduler"]}})

    # -- settings ------------------------------------------------------------------------------------------
    def settings(self, name: str, roles: list[str], partition: dict[str, Any] | None = None) -> dict[str, Any]:
        """The TOML sections of member ``name`` (what deploy/compose.yaml sets through the environment)."""
        folder = self.root / name
        sections: dict[str, dict[str, Any]] = {
            "mqtt": {"host": self.mqtt_host, "port": self.mqtt_port, "client_id": f"facmon-{name}",
                     "protocol": "5", "sparkplug": False},
            "telemetry": dict(self.telemetry),
            "database": {"url": self.database_url},
            "collector": {"spool_dir": folder / "spool"},
            "api": {"host": "127.0.0.1", "port": free_port()},
            "auth": {"required": False},
            "rules": {"files": [str(path) for path in self.rules_files]},
            "serve": {"roles": roles},
            "events": {"channel": "postgresql" if self.database_url.startswith("postgresql") else "memory"},
        }
        if partition is not None:
            sections["partition"] = partition
        for section, values in self.extra.items():
            sections[section] = {**sections.get(section, {}), **values}
        return sections

    def _partition(self, index: int) -> Member:
        return self._member(member_name(index), {"serve": {"roles": ["ingest"]},
                                                 "partition": {"index": index, "count": self.partitions}})

    def _member(self, name: str, overrides: dict[str, dict[str, Any]]) -> Member:
        sections = self.settings(name, overrides["serve"]["roles"], overrides.get("partition"))
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "facmon.toml"
        config.write_text(toml_text(sections))
        return Member(name, config, {}, int(sections["api"]["port"]), folder)

    # -- processes -----------------------------------------------------------------------------------------
    def start(self, *names: str, wait: bool = True) -> None:
        """Start the named members; none named: all, the standbys once their primaries hold the partitions
        (so ``p<i>`` is the holder and ``p<i>-standby`` the standby, as a test expects)."""
        if not names:
            primaries = [name for name in self.members if not name.endswith("-standby")]
            self.start(*primaries, wait=True)
            for index in self.standbys:
                self.wait_holder(index, member_name(index))
            standbys = [name for name in self.members if name.endswith("-standby")]
            if standbys:
                self.start(*standbys, wait=wait)
            return
        chosen = list(names)
        for name in chosen:
            member = self.members[name]
            if member.running:
                continue
            member.folder.mkdir(parents=True, exist_ok=True)
            log = (member.folder / "serve.log").open("ab")
            member.process = subprocess.Popen(
                [sys.executable, "-m", "facmon.cli", "--log-level", "warning", "serve", "--config",
                 str(member.config)],
                env={**os.environ, **member.env}, cwd=member.folder, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
        if wait:
            for name in chosen:
                self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until ``/healthz`` answers 200 (every role serves it on ``api.port``); raise with the log's tail
        if the process exits or takes longer."""
        member = self.members[name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not member.running:
                raise RuntimeError(f"{name} exited while starting:\n{self.log_tail(name)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{member.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer /healthz within {timeout_s:.0f} s:\n{self.log_tail(name)}")

    def ingesting(self, name: str) -> bool:
        """Whether the member consumes its partition (it holds the lease and its MQTT session is up)."""
        return self.counters(name).get("facmon_collector_broker_connected") == 1.0

    def holder(self, index: int) -> str | None:
        """The member that ingests partition ``index`` now (None: nobody, e.g. between holders)."""
        names = [member_name(index), member_name(index, standby=True)]
        return next((name for name in names if name in self.members and self.ingesting(name)), None)

    def wait_holder(self, index: int, name: str | None = None, timeout_s: float = READY_TIMEOUT_S) -> str:
        """Until partition ``index`` has a holder (``name``, if given); its name."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            holder = self.holder(index)
            if holder is not None and (name is None or holder == name):
                return holder
            time.sleep(0.1)
        raise RuntimeError(f"partition {index} has no holder{'' if name is None else ' ' + name} after "
                           f"{timeout_s:.0f} s:\n{self.log_tail(name or member_name(index))}")

    def kill(self, name: str) -> None:
        """SIGKILL the member (a crash: no flush, no checkpoint, no lease release)."""
        self._signal(name, signal.SIGKILL)

    def stop(self, name: str) -> None:
        """SIGTERM and wait (the graceful stop drains the spool and saves the checkpoint); SIGKILL past it."""
        self._signal(name, signal.SIGTERM)

    def stop_all(self) -> None:
        for name in reversed(list(self.members)):
            self.stop(name)

    def _signal(self, name: str, signum: int) -> None:
        member = self.members[name]
        process = member.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_S)
        member.process = None

    # -- observation ---------------------------------------------------------------------------------------
    def cpu_s(self, name: str) -> float | None:
        """CPU seconds the member's process has used so far (None when it is not running)."""
        return proc_cpu_s(self.members[name].pid)

    def peak_rss_mb(self, name: str) -> float | None:
        """The member process's peak resident memory so far (VmHWM), in MiB; None when it is not running."""
        pid = self.members[name].pid
        try:
            status = Path(f"/proc/{pid}/status").read_text() if pid is not None else ""
        except OSError:
            return None
        kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
        return None if kib is None else round(int(kib) / 1024, 1)

    def counters(self, name: str) -> dict[str, float]:
        """The member's Prometheus counters and gauges without labels (``facmon_collector_readings_stored``
        ...), scraped from ``/metrics``; {} when it does not answer."""
        try:
            response = httpx.get(f"{self.members[name].url}/metrics", timeout=5)
            response.raise_for_status()
        except httpx.HTTPError:
            return {}
        values: dict[str, float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                if not sample.labels:
                    values[sample.name.removesuffix("_total")] = sample.value
        return values

    def log_tail(self, name: str, lines: int = 30) -> str:
        try:
            text = (self.members[name].folder / "serve.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    @property
    def lease_s(self) -> float:
        """The partitions' ``lease_s`` (the setting's default unless ``extra`` sets it)."""
        from core.settings import PartitionSettings

        return float(self.extra.get("partition", {}).get("lease_s", PartitionSettings().lease_s))

    def partition_members(self, standby: bool = False) -> list[str]:
        return [member_name(index, standby) for index in range(self.partitions)]
