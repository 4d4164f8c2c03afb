"""The durable spool: append-only segment files between the MQTT acknowledgement and the consumers.

Layout of ``spool_dir``: segment files ``<first index, 20 digits>.seg`` and one ``<consumer>.offset`` file per
consumer. A record is ``length u32 | crc32 u32 | appended_ms u64 | body`` (little endian); the CRC covers
``appended_ms`` and the body, so a record torn by a crash (short header, short body or garbage) is
detected. Records are numbered from 0 across segments (the *index*); a segment's name is the index of its
first record, so finding the end needs a scan of the last segment only.

Guarantees and choices:
- ``append`` writes to the OS (no sync); ``sync`` makes every appended record durable (one fdatasync for
  the whole group: group commit). Only synced records are visible to readers, so a consumer never acts on a
  record that a crash could take back.
- ``open`` scans the last segment and truncates it at the first torn or corrupt record (never raises on a
  torn tail); the tail past it was never synced, hence never acknowledged: the broker redelivers it.
- Each consumer reads from its own offset and ``commit``s it after it has processed the records; offsets
  are written with write-tmp + rename (no fsync: a process crash keeps the page cache; after a power loss
  an older offset only replays records, and every consumer is idempotent).
- Segments wholly behind the slowest consumer are deleted (trim); ``is_full`` says the spool holds
  ``max_bytes`` or more, and the caller stops taking messages (backpressure) rather than dropping.
Thread-safety: one writer thread (append/sync), one thread per consumer; a lock guards shared state.
"""

from __future__ import annotations

import itertools
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

HEADER = struct.Struct("<IIQ")
_STAMP = struct.Struct("<Q")
MAX_RECORD_BYTES = 16 * 1024 * 1024
SUFFIX = ".seg"
DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024


def frame(body: bytes, appended_ms: int) -> bytes:
    """One record as written to a segment."""
    stamp = _STAMP.pack(appended_ms)
    return HEADER.pack(len(body), zlib.crc32(body, zlib.crc32(stamp)), appended_ms) + body


def scan(data: bytes) -> tuple[list[tuple[int, int]], int]:
    """(start, appended_ms) of each whole record in ``data``, and the byte length they cover (pure)."""
    records: list[tuple[int, int]] = []
    pos, size = 0, len(data)
    while pos + HEADER.size <= size:
        length, crc, appended_ms = HEADER.unpack_from(data, pos)
        end = pos + HEADER.size + length
        if length > MAX_RECORD_BYTES or end > size:
            break
        body = memoryview(data)[pos + HEADER.size:end]
        if zlib.crc32(body, zlib.crc32(_STAMP.pack(appended_ms))) != crc:
            break
        records.append((pos, appended_ms))
        pos = end
    return records, pos


@dataclass(frozen=True, slots=True)
class Batch:
    """Records read by one consumer: ``bodies`` from index ``first``; ``oldest_ms`` is the first one's append time."""

    first: int
    bodies: list[bytes]
    oldest_ms: int
    next_position: tuple[int, int]  # (segment base, byte position) after the last record

    @property
    def next_index(self) -> int:
        return self.first + len(self.bodies)


@dataclass(slots=True)
class _Segment:
    base: int  # index of its first record
    path: Path
    size: int  # bytes of whole, synced-or-not records
    count: int  # records in it (known for all but the open segment: maintained while appending)


class Spool:
    def __init__(self, directory: Path, consumers: Sequence[str], max_bytes: int,
                 segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._segments: list[_Segment] = self._recover()
        self._end = self._segments[-1].base + self._segments[-1].count  # next index to append
        self._durable = self._end  # what survived recovery is on disk
        self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND)
        # Each consumer's read position; and the index it committed (persisted), behind which segments are
        # trimmed. They differ only for a consumer that ``advance``s between commits (the rules: they commit
        # with their checkpoint, so a takeover replays what the checkpoint has not seen).
        self._offsets: dict[str, tuple[int, int, int]] = {name: self._load_offset(name) for name in consumers}
        self._persisted: dict[str, int] = {name: offset[0] for name, offset in self._offsets.items()}
        self._readers: dict[str, tuple[int, int]] = {}  # consumer -> (segment base, fd) open for reading
        self._closed = False

    # -- writer -----------------------------------------------------------------------------------------
    def append(self, bodies: Iterable[bytes], now_ms: int | None = None) -> int:
        """Write records (not yet durable); returns the index after the last one."""
        stamp = int(time.time() * 1000) if now_ms is None else now_ms
        frames = [frame(body, stamp) for body in bodies]
        count = len(frames)
        if not count:
            return self._end
        last = self._segments[-1]
        if last.size >= self.segment_bytes and last.count:
            self._roll()
            last = self._segments[-1]
        data = b"".join(frames)
        _write_all(self._fd, data)
        with self._lock:
            last.size += len(data)
            last.count += count
            self._end += count
            return self._end

    def sync(self) -> int:
        """Make every appended record durable (one fdatasync); returns the durable end index."""
        with self._lock:
            end = self._end
        os.fdatasync(self._fd)
        with self._lock:
            self._durable = max(self._durable, end)
            return self._durable

    # -- readers ----------------------------------------------------------------------------------------
    def read(self, consumer: str, max_records: int) -> Batch | None:
        """Up to ``max_records`` durable records after ``consumer``'s committed offset (None if none)."""
        with self._lock:
            index, base, pos = self._offsets[consumer]
            durable = self._durable
            if index >= durable:
                return None
            segment, pos = self._locate(index, base, pos)
            want = min(max_records, durable - index, segment.base + segment.count - index)
            size = segment.size
        fd = self._reader_fd(consumer, segment)
        data = os.pread(fd, min(size - pos, max(4 * 1024 * 1024, want * 512)), pos)
        bodies, oldest, used = _take(data, want)
        if not bodies:
            return None
        return Batch(index, bodies, oldest, (segment.base, pos + used))

    def commit(self, consumer: str, batch: Batch) -> None:
        """``consumer`` has processed ``batch``: persist its offset and trim what every consumer has read."""
        base, pos = batch.next_position
        value = (batch.next_index, base, pos)
        tmp = self.directory / f".{consumer}.offset.tmp"
        tmp.write_text(f"{value[0]} {value[1]} {value[2]}\n")
        os.replace(tmp, self.directory / f"{consumer}.offset")
        with self._lock:
            self._offsets[consumer] = value
            self._persisted[consumer] = value[0]
        self._trim()

    def advance(self, consumer: str, batch: Batch) -> None:
        """``consumer`` has processed ``batch`` but keeps it: the next read continues after it, while a
        restart reads again from its last ``commit`` (nothing is trimmed behind that)."""
        base, pos = batch.next_position
        with self._lock:
            self._offsets[consumer] = (batch.next_index, base, pos)

    # -- state ------------------------------------------------------------------------------------------
    @property
    def end(self) -> int:
        with self._lock:
            return self._end

    @property
    def durable(self) -> int:
        with self._lock:
            return self._durable

    def offset(self, consumer: str) -> int:
        with self._lock:
            return self._offsets[consumer][0]

    def backlog(self, consumer: str | None = None) -> int:
        """Durable records not yet committed by ``consumer`` (by the slowest if None)."""
        with self._lock:
            offsets = [self._offsets[consumer][0]] if consumer else [o[0] for o in self._offsets.values()]
            return max(0, self._durable - min(offsets, default=self._durable))

    def oldest_ms(self) -> int | None:
        """Append time of the oldest record some consumer has not committed (None when all caught up)."""
        with self._lock:
            if not self._offsets:
                return None
            index, base, pos = min(self._offsets.values())
            if index >= self._durable:
                return None
            segment, pos = self._locate(index, base, pos)
        with open(segment.path, "rb") as file:
            header = os.pread(file.fileno(), HEADER.size, pos)
        if len(header) < HEADER.size:
            return None
        return int(HEADER.unpack(header)[2])

    def size_bytes(self) -> int:
        with self._lock:
            return sum(segment.size for segment in self._segments)

    def is_full(self) -> bool:
        return self.size_bytes() >= self.max_bytes

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        os.close(self._fd)
        for _base, fd in self._readers.values():
            os.close(fd)
        self._readers.clear()

    # -- internals --------------------------------------------------------------------------------------
    def _recover(self) -> list[_Segment]:
        paths = sorted(self.directory.glob("*" + SUFFIX))
        if not paths:
            path = self.directory / f"{0:020d}{SUFFIX}"
            path.touch()
            return [_Segment(0, path, 0, 0)]
        segments = [_Segment(int(path.stem), path, path.stat().st_size, 0) for path in paths]
        for segment, nxt in itertools.pairwise(segments):
            segment.count = nxt.base - segment.base
        last = segments[-1]
        records, whole = scan(last.path.read_bytes())
        if whole != last.size:  # a torn or corrupt tail: cut it off (it was never synced, never acknowledged)
            os.truncate(last.path, whole)
            last.size = whole
        last.count = len(records)
        return segments

    def _roll(self) -> None:
        os.fdatasync(self._fd)
        os.close(self._fd)
        with self._lock:
            base = self._end
            path = self.directory / f"{base:020d}{SUFFIX}"
            path.touch()
            self._segments.append(_Segment(base, path, 0, 0))
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def _locate(self, index: int, base: int, pos: int) -> tuple[_Segment, int]:
        """Where record ``index`` starts, given the consumer's (segment base, byte position) hint.

        The hint's segment may be exhausted or trimmed: the consumer then stands exactly at a later
        segment's first record (trimming only removes segments wholly behind every consumer)."""
        segment = self._segment(base)
        if segment is not None and (pos < segment.size or segment is self._segments[-1]):
            return segment, pos
        for candidate in self._segments:
            if candidate.base <= index < candidate.base + max(candidate.count, 1):
                return candidate, 0
        return self._segments[-1], 0

    def _segment(self, base: int) -> _Segment | None:
        for segment in self._segments:
            if segment.base == base:
                return segment
        return None

    def _reader_fd(self, consumer: str, segment: _Segment) -> int:
        current = self._readers.get(consumer)
        if current is not None and current[0] == segment.base:
            return current[1]
        if current is not None:
            os.close(current[1])
        fd = os.open(segment.path, os.O_RDONLY)
        self._readers[consumer] = (segment.base, fd)
        return fd

    def _load_offset(self, consumer: str) -> tuple[int, int, int]:
        first = self._segments[0]
        try:
            index, base, pos = (int(part) for part in
                                (self.directory / f"{consumer}.offset").read_text().split())
        except (OSError, ValueError):
            return (first.base, first.base, 0)  # a new consumer reads everything kept
        segment = self._segment(base)
        if segment is None and any(s.base == index for s in self._segments):
            return (index, index, 0)  # its segment was read to the end and trimmed
        if segment is None or pos > segment.size or index > self._end:
            return (first.base, first.base, 0)  # not where the spool is (reset by hand): read all kept
        return (index, base, pos)

    def _trim(self) -> None:
        with self._lock:
            slowest = min(self._persisted.values(), default=0)
            doomed = [s for s, nxt in itertools.pairwise(self._segments)
                      if nxt.base <= slowest]
            self._segments = self._segments[len(doomed):]
        for segment in doomed:
            for consumer, (base, fd) in list(self._readers.items()):
                if base == segment.base:
                    os.close(fd)
                    del self._readers[consumer]
            segment.path.unlink(missing_ok=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _take(data: bytes, want: int) -> tuple[list[bytes], int, int]:
    """Up to ``want`` bodies from the start of ``data`` (whole records only), oldest stamp, bytes used."""
    bodies: list[bytes] = []
    pos, oldest = 0, 0
    unpack, size = HEADER.unpack_from, HEADER.size
    while len(bodies) < want and pos + size <= len(data):
        length, _crc, stamp = unpack(data, pos)
        end = pos + size + length
        if end > len(data):
            break
        if not bodies:
            oldest = stamp
        bodies.append(data[pos + size:end])
        pos = end
    return bodies, oldest, pos
