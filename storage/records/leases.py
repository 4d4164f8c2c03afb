"""Partition leases: who evaluates a partition's sites now, with a fencing epoch.

A holder takes a free or expired lease (the epoch grows by one), renews it well before it expires, and
passes its ``Lease`` to every unit of work that writes its partition's state: ``check`` (run inside that
transaction) refuses the write with ``Fenced`` once another holder has taken the partition over, so an
instance that was paused or cut off and comes back late cannot overwrite its successor's state. On
PostgreSQL the check locks the lease row for share: a takeover waits for writes under the old epoch to
commit, and writes after it see the new epoch. Expiry is judged on the callers' clocks (keep them in NTP).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import Fenced
from storage.records.models import PartitionLeaseRow
from storage.records.sessions import Repository


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    epoch: int
    expires_at: datetime
    claim: dict[str, Any]


def _lease(row: PartitionLeaseRow) -> Lease:
    return Lease(row.name, row.holder, row.epoch, row.expires_at, dict(row.claim))


class LeaseRepository(Repository):
    def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime, claim: dict[str, Any]) -> Lease | None:
        """Take the lease ``name`` if it is free, expired or already ``holder``'s; None while another holds it.
        A change of holder increments the epoch."""
        with self._transaction() as session:
            row = session.scalars(select(PartitionLeaseRow).where(PartitionLeaseRow.name == name)
                                  .with_for_update()).one_or_none()
            if row is None:
                row = PartitionLeaseRow(name=name, holder=holder, epoch=1, acquired_at=now, expires_at=now + ttl,
                                        claim=claim)
                session.add(row)
                session.flush()
                return _lease(row)
            if row.holder != holder and row.expires_at > now:
                return None
            if row.holder != holder:
                row.epoch, row.holder, row.acquired_at = row.epoch + 1, holder, now
            row.expires_at, row.claim = now + ttl, claim
            return _lease(row)

    def renew(self, lease: Lease, ttl: timedelta, now: datetime) -> Lease:
        """Extend a held lease; Fenced if another holder has taken it (even if ours had not expired)."""
        with self._transaction() as session:
            renewed = session.execute(
                update(PartitionLeaseRow)
                .where(PartitionLeaseRow.name == lease.name, PartitionLeaseRow.holder == lease.holder,
                       PartitionLeaseRow.epoch == lease.epoch)
                .values(expires_at=now + ttl)).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        if renewed != 1:
            raise Fenced(f"partition {lease.name}: the lease of epoch {lease.epoch} was taken over")
        return Lease(lease.name, lease.holder, lease.epoch, now + ttl, lease.claim)

    def release(self, lease: Lease, now: datetime) -> None:
        """Give the lease up at a clean stop, so a standby takes it at once instead of after its expiry."""
        with self._transaction() as session:
            session.execute(update(PartitionLeaseRow)
                            .where(PartitionLeaseRow.name == lease.name, PartitionLeaseRow.epoch == lease.epoch,
                                   PartitionLeaseRow.holder == lease.holder)
                            .values(expires_at=now))

    def live(self, now: datetime) -> builtins.list[Lease]:
        """The leases held now (not expired), by name."""
        with self._reading() as session:
            rows = session.scalars(select(PartitionLeaseRow).where(PartitionLeaseRow.expires_at > now)
                                   .order_by(PartitionLeaseRow.name))
            return [_lease(row) for row in rows]

    @staticmethod
    def check(session: Session, lease: Lease) -> None:
        """Inside a writing transaction: Fenced unless ``lease`` is still the partition's current epoch."""
        query = select(PartitionLeaseRow.holder, PartitionLeaseRow.epoch).where(PartitionLeaseRow.name == lease.name)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        current = session.execute(query).one_or_none()
        if current is None or (current.holder, current.epoch) != (lease.holder, lease.epoch):
            raise Fenced(f"partition {lease.name}: epoch {lease.epoch} of {lease.holder} is over "
                         f"(now {current.epoch if current else 'none'})")
