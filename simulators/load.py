"""Load generation: many simulated device topics published at an asked aggregate rate from several processes.

Two modes: for a duration (``messages=None``: publish for ``duration_s`` seconds, paced at ``rate`` or as fast
as the in-flight window allows), or an exact count (``messages=N``: the workers together publish exactly N
messages, split across processes and connections, and at QoS 1 wait for every acknowledgement; ``duration_s``
is then only a safety timeout).

Each worker process owns a share of the devices and a few paho-mqtt connections, and drives them from one
thread with paho's manual loop (no network thread: no thread switches, no GIL contention). Payloads are
pre-encoded templates, so a message costs one %-format, one ``publish`` and its PUBACK. Several device
topics share a connection: the broker sees N device topics, not N clients (fine for load; the realistic one
client per device is ``SimulatorRunner``). At QoS 1 each connection keeps at most ``window`` messages in
flight and the result counts what the broker acknowledged. Not ``mosquitto_pub -l``: it silently loses
messages at QoS 1 when its in-flight window fills (MEASURED.md).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import select
import socket
import struct
import time
from dataclasses import asdict, dataclass
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from core.domain import Asset, AssetKind
from core.wire import telemetry_topic

LOAD_SITE = "load"
DEFAULT_WINDOW = 2000  # QoS 1 messages in flight per connection (500 lost ~10% of the rate on a busy machine)
DRAIN_TIMEOUT_S = 15.0  # after the run, how long to wait for the last acknowledgements
CONNECT_TIMEOUT_S = 10.0
KEEPALIVE_S = 60
_TICK_S = 0.002  # the pacing loop's resolution
# A healthy duty pump's report, in a few variants; ~150-byte JSON like a real device's.
_BODIES = tuple(
    (b'{"running":true,"flow_m3h":%.2f,"discharge_bar":%.3f,"suction_bar":%.3f,"power_kw":%.3f,'
     b'"vibration_mm_s":%.3f,"bearing_temp_c":%.2f,"mains_ok":true}'
     % (20 + i, 4.6 - 0.01 * i, 1.2 + 0.01 * i, 4.1 + 0.05 * i, 1.1 + 0.02 * i, 48 + 0.5 * i))
    for i in range(16)
)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One load run. ``acknowledged`` is None at QoS 0 (nothing is acknowledged). ``seconds`` runs from the
    first publish to the last acknowledgement (QoS 1) or the last publish (QoS 0); ``achieved_rate`` is
    acknowledged (QoS 1) or sent (QoS 0) messages per second over it. ``cpu_s`` is the workers' CPU time."""

    sent: int
    acknowledged: int | None
    seconds: float
    achieved_rate: float
    asked_rate: float | None
    devices: int
    processes: int
    connections: int
    qos: int
    cpu_s: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Share:
    index: int
    host: str
    port: int
    device_ids: tuple[str, ...]
    site_id: str
    rate: float | None
    duration_s: float
    qos: int
    connections: int
    window: int
    messages: int | None = None  # this worker's exact count (None: publish for duration_s)
    sites: int = 1  # >1: the devices are spread over that many sites (load_site)


@dataclass(frozen=True, slots=True)
class _Outcome:
    index: int
    sent: int
    acknowledged: int
    first_at: float  # time.time() of the first publish
    last_at: float  # of the last publish (QoS 0) or acknowledgement (QoS 1)
    cpu_s: float
    error: str = ""


def load_device_ids(devices: int) -> list[str]:
    """The ids of the load generator's devices: ``load-00000`` ..."""
    return [f"load-{i:05d}" for i in range(devices)]


def load_site(site_id: str, device_id: str, sites: int = 1) -> str:
    """The site of load device ``device_id``: ``site_id`` itself, or with ``sites`` > 1 one of
    ``{site_id}-000`` ... round-robin by device number (so every site gets devices/sites of them)."""
    return site_id if sites <= 1 else f"{site_id}-{int(device_id.rsplit('-', 1)[1]) % sites:03d}"


def load_sites(site_id: str, sites: int = 1) -> list[str]:
    """Every site id ``load_site`` gives."""
    return [site_id] if sites <= 1 else [f"{site_id}-{n:03d}" for n in range(sites)]


def load_assets(devices: int, site_id: str = LOAD_SITE, sites: int = 1) -> list[Asset]:
    """The load generator's devices as pump assets of ``site_id`` (or spread over ``sites`` sites: see
    ``load_site``); register them where a registry is needed."""
    return [Asset(asset_id, load_site(site_id, asset_id, sites), AssetKind.PUMP, asset_id)
            for asset_id in load_device_ids(devices)]


def count_timeout_s(messages: int, rate: float | None = None) -> float:
    """A generous safety timeout for publishing exactly ``messages`` (at ``rate``, or as fast as possible):
    twice the paced time, or 1,000 msgs/s (a twentieth of what one Mosquitto acknowledges here), plus 30 s."""
    return 30.0 + (2.0 * messages / rate if rate is not None else messages / 1000.0)


def run_load(host: str, port: int, devices: int, rate: float | None, duration_s: float, qos: int = 1,
             processes: int = 2, connections: int = 2, window: int = DEFAULT_WINDOW,
             site_id: str = LOAD_SITE, messages: int | None = None, sites: int = 1) -> LoadResult:
    """Publish from ``devices`` device topics at ``rate`` messages/s in total (None: as fast as the in-flight
    window allows) from ``processes`` processes of ``connections`` connections: for ``duration_s`` seconds,
    or, given ``messages``, exactly that many in total (at QoS 1 waiting for every acknowledgement), with
    ``duration_s`` only a safety timeout (``count_timeout_s`` gives one). If the timeout cuts a count run
    short, ``sent`` / ``acknowledged`` say how far it got. ``sites`` > 1 spreads the devices over that many
    sites (``load_site``)."""
    if devices < 1 or processes < 1 or connections < 1 or duration_s <= 0 or window < 1:
        raise ValueError("devices, processes, connections, window and duration must be positive")
    if qos not in (0, 1):
        raise ValueError("qos must be 0 or 1")
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive (or None for as fast as possible)")
    if messages is not None and messages < 1:
        raise ValueError("messages must be positive (or None to publish for the duration)")
    processes = min(processes, devices, messages or processes)
    ids = load_device_ids(devices)
    shares = [_Share(p, host, port, tuple(ids[p::processes]), site_id,
                     None if rate is None else rate / processes, duration_s, qos, connections, window,
                     None if messages is None else messages // processes + int(p < messages % processes),
                     sites)
              for p in range(processes)]
    outcomes = _run_workers(shares)
    sent = sum(o.sent for o in outcomes)
    acked = sum(o.acknowledged for o in outcomes)
    seconds = max(o.last_at for o in outcomes) - min(o.first_at for o in outcomes) if sent else 0.0
    counted = acked if qos == 1 else sent
    return LoadResult(sent, acked if qos == 1 else None, round(seconds, 3),
                      round(counted / seconds, 1) if seconds > 0 else 0.0, rate, devices, processes,
                      connections, qos, round(sum(o.cpu_s for o in outcomes), 3))


def _run_workers(shares: list[_Share]) -> list[_Outcome]:
    ctx = mp.get_context("spawn")  # not fork: the caller may hold threads (paho, a server)
    results: mp.Queue[_Outcome | int] = ctx.Queue()
    go = ctx.Event()
    workers = [ctx.Process(target=_worker, args=(share, results, go), name=f"facmon-load-{share.index}",
                           daemon=True) for share in shares]
    for worker in workers:
        worker.start()
    try:
        ready = 0
        while ready < len(shares):  # each worker says when its connections are up
            message = results.get(timeout=CONNECT_TIMEOUT_S + 30)
            if isinstance(message, _Outcome):
                raise ConnectionError(f"load worker {message.index}: {message.error}")
            ready += 1
        go.set()
        timeout = shares[0].duration_s + DRAIN_TIMEOUT_S + 30  # a count run drains within its duration
        outcomes = [_result(results.get(timeout=timeout)) for _ in shares]
    except queue.Empty:
        raise TimeoutError("load workers did not report in time") from None
    finally:
        for worker in workers:
            worker.join(5)
            if worker.is_alive():
                worker.kill()
    return outcomes


def _result(message: _Outcome | int) -> _Outcome:
    if not isinstance(message, _Outcome):
        raise RuntimeError(f"unexpected message from a load worker: {message!r}")
    if message.error:
        raise ConnectionError(f"load worker {message.index}: {message.error}")
    return message


class _Connection:
    """A minimal MQTT 3.1.1 publisher on one socket: CONNECT, PUBLISH (QoS 0/1) written in batches, PUBACKs
    counted in bulk, PINGREQ for keep-alive. paho-mqtt spends ~80 us of CPU per QoS 1 message (a packet
    object, a send() per message and a wake-up byte, Properties and ReasonCode objects per PUBACK), which
    caps two cores at ~18k msgs/s next to the broker; this spends a few."""

    def __init__(self, share: _Share, number: int) -> None:
        self.qos = share.qos
        self.sent = 0
        self.acked = 0
        self.last_ack_at = 0.0
        self._mid = 0
        self._buffer = b""
        self._last_write = time.monotonic()
        self.sock = socket.create_connection((share.host, share.port), timeout=CONNECT_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client_id = f"facmon-load-{share.index}-{number}".encode()
        body = b"\x00\x04MQTT\x04\x02" + struct.pack("!H", KEEPALIVE_S) + struct.pack("!H", len(client_id)) + client_id
        self.sock.sendall(b"\x10" + _varint(len(body)) + body)
        connack = self._recv_exactly(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise ConnectionError(f"broker refused the connection (CONNACK {connack.hex()})")
        self.sock.settimeout(None)

    def _recv_exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            data += chunk
        return data

    def pending(self) -> bool:
        """QoS 1 messages the broker has not acknowledged yet."""
        return self.qos == 1 and self.acked < self.sent

    def in_flight(self) -> int:
        return self.sent - self.acked if self.qos == 1 else 0

    def packet(self, topic: bytes, payload: bytes) -> bytes:
        """One PUBLISH packet (the next packet id at QoS 1)."""
        self.sent += 1
        if self.qos == 0:
            return b"\x30" + _varint(len(topic) + len(payload)) + topic + payload
        self._mid = self._mid % 0xFFFF + 1
        return b"\x32" + _varint(len(topic) + 2 + len(payload)) + topic + _MIDS[self._mid] + payload

    def write(self, packets: list[bytes]) -> None:
        if packets:
            self.sock.sendall(b"".join(packets))
            self._last_write = time.monotonic()
        elif time.monotonic() - self._last_write > KEEPALIVE_S / 2:
            self.sock.sendall(b"\xc0\x00")  # PINGREQ
            self._last_write = time.monotonic()

    def read(self) -> None:
        """Count the PUBACKs that have arrived (without blocking)."""
        try:
            data = self.sock.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        if not data:
            raise ConnectionError("the broker closed the connection")
        data = self._buffer + data
        # The broker sends only PUBACK (4 bytes) and PINGRESP (2 bytes) to a publisher.
        acks, at = 0, 0
        while at + 2 <= len(data):
            size = 2 + data[at + 1]
            if at + size > len(data):
                break
            acks += data[at] == 0x40
            at += size
        self._buffer = data[at:]
        if acks:
            self.acked += acks
            self.last_ack_at = time.time()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()


def _varint(value: int) -> bytes:
    """MQTT's remaining-length encoding."""
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | (0x80 if value else 0))
        if not value:
            return bytes(out)


_MIDS = [struct.pack("!H", mid) for mid in range(0x10000)]


def _worker(share: _Share, results: mp.Queue[_Outcome | int], go: MpEvent) -> None:
    cpu0 = time.process_time()
    try:
        connections = [_Connection(share, n) for n in range(share.connections)]
    except (OSError, ConnectionError) as error:
        results.put(_Outcome(share.index, 0, 0, 0.0, 0.0, 0.0, f"cannot connect to {share.host}:{share.port}: {error}"))
        return
    results.put(share.index)
    go.wait()
    try:
        outcome = _publish(share, connections)
    except (OSError, ConnectionError) as error:
        outcome = _Outcome(share.index, 0, 0, 0.0, 0.0, 0.0, f"connection lost: {error}")
    for connection in connections:
        connection.close()
    results.put(_Outcome(outcome.index, outcome.sent, outcome.acknowledged, outcome.first_at, outcome.last_at,
                         time.process_time() - cpu0, outcome.error))


def _publish(share: _Share, connections: list[_Connection]) -> _Outcome:
    topics = [_topic(telemetry_topic(load_site(share.site_id, device_id, share.sites), AssetKind.PUMP, device_id))
              for device_id in share.device_ids]
    seqs = [0] * len(topics)
    count = len(connections)
    sent, device = 0, 0
    start_wall = time.time()
    start = time.monotonic()
    deadline = start + share.duration_s
    limit = share.messages  # None: until the deadline
    while (now := time.monotonic()) < deadline and (limit is None or sent < limit):
        target = sent + share.window * count if share.rate is None else int(share.rate * (now - start)) + 1
        if limit is not None:
            target = min(target, limit)
        ts = b"%.3f" % time.time()
        before = sent
        batches: list[list[bytes]] = [[] for _ in connections]
        while sent < target:
            slot = device % count
            connection = connections[slot]
            if connection.in_flight() >= share.window:
                break  # the window is full: read acknowledgements first
            seq = seqs[device] = seqs[device] + 1
            payload = b'{"ts":%s,"metrics":%s,"seq":%d}' % (ts, _BODIES[seq & 15], seq)
            batches[slot].append(connection.packet(topics[device], payload))
            sent += 1
            device = (device + 1) % len(topics)
        for connection, batch in zip(connections, batches, strict=True):
            connection.write(batch)
            connection.read()
        if limit is not None and sent >= limit:
            break
        if share.rate is not None and sent >= target:
            time.sleep(min(_TICK_S, max(0.0, start + (sent + 1) / share.rate - time.monotonic())))
        elif share.rate is None and sent == before:
            # The next connection's window is full: wait for PUBACKs instead of spinning on recv (a spinning
            # publisher takes CPU from the broker and the collector it is measuring on a small machine).
            select.select([c.sock for c in connections], [], [], _TICK_S)
    last_send = time.time()
    # A count run waits for its acknowledgements until its safety deadline (at least DRAIN_TIMEOUT_S more).
    acked = _drain(connections, max(DRAIN_TIMEOUT_S, deadline - time.monotonic()) if limit is not None
                   else DRAIN_TIMEOUT_S)
    last = max((c.last_ack_at for c in connections), default=last_send) if share.qos == 1 else last_send
    return _Outcome(share.index, sent, acked, start_wall, max(last, start_wall), 0.0)


def _topic(topic: str) -> bytes:
    encoded = topic.encode()
    return struct.pack("!H", len(encoded)) + encoded


def _drain(connections: list[_Connection], timeout_s: float = DRAIN_TIMEOUT_S) -> int:
    """Wait (up to ``timeout_s``) until every QoS 1 message is acknowledged; the number acknowledged."""
    until = time.monotonic() + timeout_s
    while any(c.pending() for c in connections) and time.monotonic() < until:
        for connection in connections:
            connection.read()
        time.sleep(0.001)
    return sum(c.acked for c in connections)
