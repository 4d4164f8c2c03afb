"""Site ownership: hashmod partitions split every site exactly once, stably; coverage finds gaps and overlaps."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ConfigError
from core.partitions import Ownership, coverage, site_partition
from core.settings import PartitionSettings, load_settings

site_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=40)


def prometheus_hashmod(value: str, modulus: int) -> int:
    """Prometheus's relabel hashmod, written from its documentation: the MD5 sum's low 8 bytes, big-endian."""
    return int(hashlib.md5(value.encode()).hexdigest()[16:], 16) % modulus


@given(site_ids, st.integers(1, 64))
def test_the_partition_of_a_site_is_prometheus_hashmod(site: str, count: int) -> None:
    assert site_partition(site, count) == prometheus_hashmod(site, count)


@given(st.sets(site_ids, min_size=1, max_size=60), st.integers(1, 8))
def test_index_of_count_partitions_own_every_site_exactly_once(sites: set[str], count: int) -> None:
    claims = {f"p{i}": Ownership(index=i, count=count) for i in range(count)}
    found = coverage(claims, sites)
    assert found.complete
    assert sum(len(claim.owned(sites)) for claim in claims.values()) == len(sites)


def test_a_missing_partition_leaves_its_sites_unowned_and_an_overlap_is_named() -> None:
    sites = [f"s{n}" for n in range(40)]
    claims = {"p0": Ownership(index=0, count=2)}  # p1 is not running
    found = coverage(claims, sites)
    assert set(found.unowned) == {site for site in sites if site_partition(site, 2) == 1}
    assert found.unowned
    assert not found.doubly_owned
    claims = {"p0": Ownership(index=0, count=2), "p1": Ownership(index=1, count=2),
              "extra": Ownership(sites=frozenset({"s1", "s2"}))}
    found = coverage(claims, sites)
    assert set(found.doubly_owned) == {"s1", "s2"}
    assert not found.unowned
    assert "extra" in found.doubly_owned["s1"]
    assert "owned twice" in found.describe()


def test_a_claim_survives_its_json_form() -> None:
    for claim in (Ownership(), Ownership(sites=frozenset({"a", "b"})), Ownership(index=2, count=3)):
        assert Ownership.from_json(claim.as_json()) == claim


def test_partition_settings_name_the_partition_and_refuse_contradictions() -> None:
    assert PartitionSettings(index=1, count=4).name == "p1-of-4"
    assert PartitionSettings(sites=["b", "a"]).name == "sites-a-b"
    assert PartitionSettings().name == "all"
    assert Ownership.of(PartitionSettings()).everything
    with pytest.raises(ConfigError, match="not below"):
        load_settings(partition={"index": 2, "count": 2})
    with pytest.raises(ConfigError, match="either sites or index"):
        load_settings(partition={"index": 0, "count": 2, "sites": ["a"]})
