"""SIGKILL the collector in the middle of a burst, restart it: every published message is in InfluxDB once."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.ingest_helpers import DEVICES, Publisher, count_points, wait_for

pytestmark = pytest.mark.integration
MESSAGES = 12_000


class Child:
    """The collector as a child process (facmon.bench.ingest.main) that the test can SIGKILL."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "facmon.bench.ingest", *self.args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready", "the collector child did not start"

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def child(mosquitto: Any, influxdb: Any, unique_site: str, tmp_path: Path) -> Iterator[Child]:
    database = f"crash_{secrets.token_hex(4)}"
    built = Child([mosquitto.host, str(mosquitto.port), influxdb.url, database, unique_site, str(DEVICES),
                   str(tmp_path), f"collector-{unique_site}"])
    built.start()
    yield built
    built.stop()


def test_sigkill_mid_burst_then_restart_stores_every_message_exactly_once(
        child: Child, mosquitto: Any, influxdb: Any, unique_site: str) -> None:
    database = child.args[3]
    publisher = Publisher(mosquitto.host, mosquitto.port, unique_site, rate=3000)  # a burst of ~4 s
    try:
        publisher.publish_in_background(MESSAGES)
        # Kill once the collector has stored some of the burst but the publisher is still sending.
        wait_for(lambda: count_points(influxdb.url, database, unique_site) > 500, 60, "the first stored points")
        child.kill()
        killed_at, published_at_kill = count_points(influxdb.url, database, unique_site), publisher.sent
        publisher.wait_acked(120)  # the broker queues the rest for the collector's persistent session
        child.start()  # same client id, same spool directory
        wait_for(lambda: count_points(influxdb.url, database, unique_site) >= MESSAGES, 90,
                 "every message in InfluxDB after the restart")
    finally:
        publisher.close()
    assert published_at_kill < MESSAGES, "the burst ended before the kill"
    assert killed_at < published_at_kill
    assert publisher.acked == MESSAGES
    # Each message is its own (device, millisecond) point: the count is exact, a duplicate would overwrite
    # itself (never a second point) and a loss would leave the count short.
    assert count_points(influxdb.url, database, unique_site) == MESSAGES
