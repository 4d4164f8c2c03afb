"""The durable spool: offsets per consumer, trimming, backpressure bound, crash recovery with torn tails."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.spool import HEADER, Spool, frame, scan


def read_all(spool: Spool, consumer: str, commit: bool = True) -> list[bytes]:
    out: list[bytes] = []
    while (batch := spool.read(consumer, 7)) is not None:
        out.extend(batch.bodies)
        if commit:
            spool.commit(consumer, batch)
    return out


def test_records_are_invisible_until_synced(tmp_path: Path) -> None:
    spool = Spool(tmp_path, ["a"], max_bytes=1 << 20)
    spool.append([b"one", b"two"])
    assert spool.read("a", 10) is None
    spool.sync()
    batch = spool.read("a", 10)
    assert batch is not None
    assert batch.bodies == [b"one", b"two"]
    spool.close()


def test_each_consumer_reads_from_its_own_committed_offset(tmp_path: Path) -> None:
    spool = Spool(tmp_path, ["store", "rules"], max_bytes=1 << 20)
    spool.append([b"%d" % i for i in range(20)])
    spool.sync()
    assert read_all(spool, "store") == [b"%d" % i for i in range(20)]
    assert spool.backlog("store") == 0
    assert spool.backlog("rules") == 20
    assert spool.backlog() == 20
    spool.close()
    reopened = Spool(tmp_path, ["store", "rules"], max_bytes=1 << 20)
    assert reopened.read("store", 10) is None
    assert len(read_all(reopened, "rules")) == 20
    reopened.close()


def test_segments_behind_the_slowest_consumer_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, ["a", "b"], max_bytes=1 << 30, segment_bytes=64 * 1024)
    for _ in range(40):
        spool.append([b"x" * 1000] * 10)
        spool.sync()
    assert len(list(tmp_path.glob("*.seg"))) > 3
    read_all(spool, "a")
    assert len(list(tmp_path.glob("*.seg"))) > 3  # b has read nothing
    read_all(spool, "b")
    assert len(list(tmp_path.glob("*.seg"))) == 1
    spool.close()


def test_is_full_at_the_size_bound_until_consumers_catch_up(tmp_path: Path) -> None:
    spool = Spool(tmp_path, ["a"], max_bytes=200_000, segment_bytes=64 * 1024)
    while not spool.is_full():
        spool.append([b"y" * 1000] * 10)
        spool.sync()
    read_all(spool, "a")
    assert not spool.is_full()
    spool.close()


def test_a_torn_tail_is_truncated_and_appending_continues(tmp_path: Path) -> None:
    spool = Spool(tmp_path, ["a"], max_bytes=1 << 20)
    spool.append([b"first", b"second"])
    spool.sync()
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    whole = segment.stat().st_size
    with segment.open("ab") as file:
        file.write(frame(b"torn-record", 1)[:-3])
    reopened = Spool(tmp_path, ["a"], max_bytes=1 << 20)
    assert segment.stat().st_size == whole
    reopened.append([b"third"])
    reopened.sync()
    assert read_all(reopened, "a") == [b"first", b"second", b"third"]
    reopened.close()


def test_scan_stops_at_a_corrupt_record() -> None:
    data = frame(b"good", 5) + bytearray(frame(b"bad!", 5))
    corrupt = bytearray(data)
    corrupt[-1] ^= 0xFF
    records, whole = scan(bytes(corrupt))
    assert [start for start, _ in records] == [0]
    assert whole == HEADER.size + 4


operations = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(1, 5)),
    st.tuples(st.just("sync"), st.just(0)),
    st.tuples(st.just("read"), st.integers(1, 6)),
    st.tuples(st.just("crash"), st.integers(0, 40)),
), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_committed_records_are_never_lost_or_duplicated(tmp_path_factory: object, ops: list[tuple[str, int]]) -> None:
    """Random appends, syncs, reads+commits and crashes that tear the unsynced tail: the consumer sees every
    synced record exactly once, in order."""
    directory = Path(str(tmp_path_factory.mktemp("spool")))  # type: ignore[attr-defined]
    spool = Spool(directory, ["c"], max_bytes=1 << 30, segment_bytes=256)
    counter, seen = 0, []
    synced_bytes = 0  # of the last segment: a crash can only tear what was not synced
    for op, arg in ops:
        if op == "append":
            spool.append([b"r%d" % (counter + i) for i in range(arg)])
            counter += arg
        elif op == "sync":
            spool.sync()
            synced_bytes = sorted(directory.glob("*.seg"))[-1].stat().st_size
        elif op == "read":
            batch = spool.read("c", arg)
            if batch is not None:
                seen.extend(batch.bodies)
                spool.commit("c", batch)
        else:  # crash: unsynced bytes may be partly on disk; cut the last segment somewhere in its tail
            spool.close()
            segments = sorted(directory.glob("*.seg"))
            if len(segments) > 1 and segments[-1].stat().st_size and synced_bytes > segments[-1].stat().st_size:
                synced_bytes = 0  # a roll synced the previous segment; nothing of the new one is synced
            size = segments[-1].stat().st_size
            os.truncate(segments[-1], max(min(synced_bytes, size), size - arg))
            spool = Spool(directory, ["c"], max_bytes=1 << 30, segment_bytes=256)
            counter = spool.end  # what survived is the new truth; a later record reuses a torn one's index
            spool.sync()
            synced_bytes = sorted(directory.glob("*.seg"))[-1].stat().st_size
    spool.sync()
    seen.extend(read_all(spool, "c"))
    # the records that survived are exactly the ones the consumer saw, each once, in order
    assert len(seen) == len(set(seen)), "a record was delivered twice"
    numbers = [int(body[1:]) for body in seen]
    assert numbers == sorted(numbers)
    assert len(seen) == spool.end
    spool.close()


def test_a_consumer_that_advances_reads_on_but_a_restart_replays_from_its_commit(tmp_path: Path) -> None:
    spool = Spool(tmp_path, ["rules"], max_bytes=1 << 20)
    spool.append([b"%d" % i for i in range(10)])
    spool.sync()
    first = spool.read("rules", 4)
    assert first is not None
    spool.commit("rules", first)
    second = spool.read("rules", 4)
    assert second is not None
    assert second.bodies == [b"4", b"5", b"6", b"7"]
    spool.advance("rules", second)  # evaluated, not yet covered by a checkpoint
    assert spool.backlog("rules") == 2
    rest = spool.read("rules", 10)
    assert rest is not None
    assert rest.bodies == [b"8", b"9"]
    spool.close()
    reopened = Spool(tmp_path, ["rules"], max_bytes=1 << 20)
    assert read_all(reopened, "rules") == [b"%d" % i for i in range(4, 10)]
    reopened.close()
