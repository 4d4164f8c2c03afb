"""Which sites a partition owns: explicit site lists, or partition ``i`` of ``N`` over a stable hash.

The hash is Prometheus's hashmod (the last 8 bytes of the MD5 of the site id, big-endian, modulo N): stable
across processes, Python versions and machines, unlike ``hash()``. Coverage is judged over every live
partition's claim so that a site nobody owns, or two partitions own, is seen and alarmed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.settings import PartitionSettings


def site_partition(site_id: str, count: int) -> int:
    """The partition (0 .. count-1) that owns ``site_id`` when sites are split ``count`` ways."""
    digest = hashlib.md5(site_id.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % count


@dataclass(frozen=True)
class Ownership:
    """A partition's claim: explicit ``sites``, or ``index`` of ``count``, or everything (neither)."""

    sites: frozenset[str] = frozenset()
    index: int | None = None
    count: int = 1

    @classmethod
    def of(cls, settings: PartitionSettings) -> Ownership:
        return cls(frozenset(settings.sites), settings.index, settings.count)

    @property
    def everything(self) -> bool:
        return not self.sites and self.index is None

    def owns(self, site_id: str) -> bool:
        if self.sites:
            return site_id in self.sites
        if self.index is not None:
            return site_partition(site_id, self.count) == self.index
        return True

    def owned(self, site_ids: Iterable[str]) -> list[str]:
        return sorted(site for site in site_ids if self.owns(site))

    def as_json(self) -> dict[str, Any]:
        return {"sites": sorted(self.sites), "index": self.index, "count": self.count}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ownership:
        return cls(frozenset(data.get("sites") or ()), data.get("index"), int(data.get("count") or 1))


@dataclass(frozen=True)
class Coverage:
    """Sites no live partition owns, and sites owned by more than one (with their owners)."""

    unowned: tuple[str, ...]
    doubly_owned: dict[str, tuple[str, ...]]

    @property
    def complete(self) -> bool:
        return not self.unowned and not self.doubly_owned

    def describe(self) -> str:
        parts = []
        if self.unowned:
            parts.append(f"{len(self.unowned)} site(s) owned by no partition: {', '.join(self.unowned[:10])}")
        if self.doubly_owned:
            named = [f"{site} ({' and '.join(owners)})" for site, owners in list(self.doubly_owned.items())[:10]]
            parts.append(f"{len(self.doubly_owned)} site(s) owned twice: {', '.join(named)}")
        return "; ".join(parts) or "every site has one owner"


def coverage(claims: Mapping[str, Ownership], site_ids: Iterable[str]) -> Coverage:
    """Judge ``claims`` (partition name -> its ownership) over every known site."""
    unowned: list[str] = []
    doubly: dict[str, tuple[str, ...]] = {}
    for site in sorted(site_ids):
        owners = tuple(sorted(name for name, claim in claims.items() if claim.owns(site)))
        if not owners:
            unowned.append(site)
        elif len(owners) > 1:
            doubly[site] = owners
    return Coverage(tuple(unowned), doubly)
