"""The scale bench's scenario: sites (random ids that give every partition some), load pumps spread over
them, one fault pump per scheduled fault, registered once in the records database; and how the bench counts
(InfluxDB points, CPU of a process session).
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

import httpx

from facmon.bench.scale_faults import Fault

DATABASE = "facmon"
HOT_S = 5.0


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries only the JSON)."""
    sys.stderr.write(f"[bench scale {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def session_cpu_s(session: int | None) -> float | None:
    """CPU seconds of session ``session`` (a service started in its own session): every live process's utime +
    stime, plus the cutime + cstime of the children they reaped (PostgreSQL's ended backends, counted in its
    postmaster); None if there is none."""
    if session is None:
        return None
    ticks, total, found = os.sysconf("SC_CLK_TCK"), 0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # after the name: state, ppid, pgrp, session, ...
            total, found = total + sum(int(value) for value in fields[11:15]), True
    return total / ticks if found else None


def count_points(influx_url: str, database: str) -> int:
    """Points of one metric every bench reading carries, in the whole database (one point per reading)."""
    response = httpx.get(f"{influx_url}/query", params={"db": database, "q": "SELECT count(flow_m3h) FROM pump"},
                         timeout=60)
    response.raise_for_status()
    series = response.json()["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


class Scenario:
    """The sites, the load pumps spread over them and the scheduled faults (one fault pump per site)."""

    def __init__(self, partitions: int, sites: int, devices: int, seconds: float,
                 faults_per_partition: int = 2) -> None:
        from core.partitions import site_partition
        from simulators.load import load_sites

        self.partitions, self.devices, self.seconds, self.site_count = partitions, devices, seconds, sites
        for _ in range(1000):  # site ids (random per run) that give every partition at least one site
            self.site_prefix = f"s{secrets.token_hex(3)}"
            self.sites = load_sites(self.site_prefix, sites)
            self.owner = {site: site_partition(site, partitions) for site in self.sites}
            if len(set(self.owner.values())) == min(partitions, sites):
                break
        # Faults spread over the first 70 % of the run, on sites each partition owns.
        self.faults: list[Fault] = []
        each = faults_per_partition
        for index in range(partitions):
            owned = [site for site in self.sites if self.owner[site] == index]
            for number, site in enumerate(owned[:each]):
                start = seconds * (0.1 + 0.6 * (each * index + number) / max(1, each * partitions))
                self.faults.append(Fault(site, f"hot-{site}", start, HOT_S))
        faulted = {fault.site for fault in self.faults}
        # The takeover faults (under load, then quiet): a partition-0 site without a scheduled fault, own pumps.
        spare = [site for site in self.sites if self.owner[site] == 0 and site not in faulted] or [self.sites[0]]
        self.takeovers = [Fault(spare[0], f"hot-{spare[0]}-takeover{n}", 0.0, seconds) for n in (1, 2)]
        self.takeover = self.takeovers[0]

    def register(self, database_url: str) -> None:
        """Migrate the records database and register the sites and pumps (once, before any process starts)."""
        from core.domain import Site
        from simulators.load import load_assets
        from storage.records import Database

        started = time.monotonic()
        db = Database(database_url)
        db.upgrade()
        with db.unit_of_work():  # one transaction for the lot
            for site in self.sites:
                db.assets.upsert_site(Site(site, site))
            for asset in [*load_assets(self.devices, self.site_prefix, self.site_count),
                          *(fault.as_asset() for fault in [*self.faults, *self.takeovers])]:
                db.assets.upsert_asset(asset)
        db.dispose()
        progress(f"registered {len(self.sites)} sites, {self.devices} load pumps in {time.monotonic() - started:.1f} s")
