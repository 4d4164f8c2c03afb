"""This process's partition (docs/scaling.md): the lease it holds or waits for as a standby, the sites it
owns, and the watch that alarms when a site has no owner or two.

A partition given by ``[partition]`` (site list or hashmod index) runs under a lease in the records
database: the first instance takes it, a second with the same settings waits as a standby and takes over
when the holder stops renewing (a SIGKILL: after ``lease_s``; a clean stop releases it at once). The
holder renews every third of ``lease_s``; once it cannot prove it still holds the lease (taken over, or
not renewed before expiry) it calls ``on_lost`` and the process exits, to come back as a standby. Lease
times are wall times even under the demo's accelerated clock.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.domain import Alarm, Asset, Severity, Site
from core.errors import Fenced, ServiceUnavailable
from core.partitions import Coverage, Ownership, coverage
from core.settings import PartitionSettings
from facmon.periodic import Periodic
from rules.own_alarms import OwnAlarm
from storage.records import Database
from storage.records.leases import Lease

log = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"  # the lease under which one process of a deployment runs the scheduler
COVERAGE_RULE = "partition_coverage"  # facmon's own alarm: a site owned by no partition, or by two
COVERAGE_ASSET = "partitions"
FACMON_SITE = "facmon"


def holder_id() -> str:
    """Who holds a lease: the host, the process and a random part (a restarted process is a new holder)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def wall_now() -> datetime:
    return datetime.now(UTC)


class PartitionLease:
    """The lease of one partition, taken (``acquire``: blocks as a standby) and kept (``start_renewing``)."""

    def __init__(self, db: Database, name: str, claim: Ownership, lease_s: float, holder: str | None = None,
                 now: Callable[[], datetime] = wall_now) -> None:
        self._db = db
        self.name = name
        self.claim = claim
        self._lease_s = lease_s
        self.holder = holder or holder_id()
        self._ttl = timedelta(seconds=lease_s)
        self._now = now
        self.lease: Lease | None = None
        self._renewing: Periodic | None = None
        self._lost = threading.Event()

    @classmethod
    def of(cls, db: Database, settings: PartitionSettings) -> PartitionLease:
        """The lease of the partition ``settings`` describe."""
        return cls(db, settings.name, Ownership.of(settings), settings.lease_s)

    def acquire(self, stopping: threading.Event) -> Lease | None:
        """Take the lease, waiting as a standby while another instance holds it; None if stopped first."""
        reported = None
        while not stopping.is_set():
            try:
                lease = self._db.leases.acquire(self.name, self.holder, self._ttl, self._now(), self.claim.as_json())
                if lease is not None:
                    log.info("partition %s: taken by %s (epoch %d)", self.name, self.holder, lease.epoch)
                    self.lease = lease
                    return lease
                holder = next((held for held in self._db.leases.live(self._now()) if held.name == self.name), None)
            except ServiceUnavailable as error:
                log.warning("partition %s: records database unreachable (%s); retrying", self.name, error)
                holder = None
            if holder is not None and holder.holder != reported:
                log.info("partition %s: held by %s until %s; standing by", self.name, holder.holder,
                         holder.expires_at.isoformat())
                reported = holder.holder
            stopping.wait(self._lease_s / 3)
        return None

    def start_renewing(self, on_lost: Callable[[str], None]) -> None:
        """Renew every third of the lease; ``on_lost(reason)`` once the lease is no longer surely ours."""
        def renew() -> None:
            if self._lost.is_set() or self.lease is None:
                return
            try:
                self.lease = self._db.leases.renew(self.lease, self._ttl, self._now())
            except Fenced as error:
                self._lose(on_lost, str(error))
            except ServiceUnavailable as error:
                if self._now() >= self.lease.expires_at:
                    self._lose(on_lost, f"could not renew before the lease expired ({error})")
                else:
                    log.warning("partition %s: renewal failed (%s); the lease holds until %s", self.name, error,
                                self.lease.expires_at.isoformat())

        self._renewing = Periodic(f"lease-{self.name}", self._lease_s / 3, renew)
        self._renewing.start()

    def _lose(self, on_lost: Callable[[str], None], reason: str) -> None:
        self._lost.set()
        log.error("partition %s: lost the lease: %s; stopping", self.name, reason)
        on_lost(reason)

    def release(self) -> None:
        """Stop renewing and give the lease up, so a standby takes over at once (a clean stop)."""
        if self._renewing is not None:
            self._renewing.stop()
        if self.lease is not None and not self._lost.is_set():
            try:
                self._db.leases.release(self.lease, self._now())
            except ServiceUnavailable:
                log.warning("partition %s: could not release the lease; it expires by itself", self.name)


def owned_registry(db: Database, ownership: Ownership) -> tuple[list[Site], list[Asset]]:
    """The sites this partition owns and their assets (what its rule engine judges)."""
    sites = [site for site in db.assets.sites() if ownership.owns(site.id)]
    ids = {site.id for site in sites}
    return sites, [asset for asset in db.assets.list() if asset.site_id in ids]


class CoverageWatch:
    """Judges every live partition's claim over every known site (the scheduler's job: once per deployment).
    A gap or overlap that lasts a lease period raises ``partition_coverage``; it clears once covered."""

    def __init__(self, db: Database, grace: timedelta, publish: Callable[[str, Alarm], object],
                 now: Callable[[], datetime] = wall_now) -> None:
        self._db = db
        self._grace = grace
        self._now = now
        self._alarm = OwnAlarm(db, COVERAGE_RULE, COVERAGE_ASSET, FACMON_SITE, Severity.HIGH, publish)
        self._since: datetime | None = None
        self._raised: str | None = None
        self.last: Coverage | None = None

    def check(self) -> Coverage | None:
        """One judgement; None while no partition holds a lease (one process owning everything)."""
        now = self._now()
        leases = [lease for lease in self._db.leases.live(now) if lease.name != SCHEDULER_LEASE]
        if not leases:
            self.last = None
            return None
        claims = {lease.name: Ownership.from_json(lease.claim) for lease in leases}
        sites = [site.id for site in self._db.assets.sites() if site.id != FACMON_SITE]
        self.last = found = coverage(claims, sites)
        if found.complete:
            self._since, self._raised = None, None
            self._alarm.clear(now, "every site has one partition again")  # also one a previous scheduler raised
            return found
        self._since = self._since or now
        message = found.describe()
        if now - self._since >= self._grace and message != self._raised:
            self._alarm.raise_alarm(now, f"Partitions do not cover the portfolio: {message}")
            self._raised = message
        return found
