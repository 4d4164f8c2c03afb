"""Takeover timing for `facmon bench scale --standby`: SIGKILL the process holding partition 0, start a fault
on one of its sites at that moment, and time until that fault's alarm is in the records database (raised by
the standby that took the lease, the MQTT session and the spool over).

The time includes the lease expiry (``partition.lease_s``: a SIGKILLed holder releases nothing), the
standby's start of ingest and the rule's on-delay. Under load it also includes whatever backlog the broker
holds for the partition (readings are judged in order), so the bench times it twice: mid-stream
(``takeover_under_load_s``) and once the load has drained (``takeover_s``).
"""

from __future__ import annotations

import time

from facmon.bench.scale_faults import Fault, FaultPublisher, overheat_alarms
from facmon.bench.scale_topology import Topology, member_name


def kill_and_time(topology: Topology, publisher: FaultPublisher, fault: Fault,
                  timeout_s: float) -> tuple[str, float | None]:
    """SIGKILL partition 0's holder; run ``fault`` from now until its alarm exists. The killed member's
    name and the seconds from the kill to the alarm (None: not within ``timeout_s``)."""
    killed = topology.holder(0) or member_name(0)
    killed_at = time.monotonic()
    topology.kill(killed)
    fault.start_s, fault.hot_s = publisher.elapsed_s(), timeout_s
    publisher.add(fault)
    took: float | None = None
    while time.monotonic() - killed_at < timeout_s:
        if any(asset == fault.asset for asset, _ in overheat_alarms(topology.database_url)):
            took = round(time.monotonic() - killed_at, 2)
            break
        time.sleep(0.1)
    fault.hot_s = publisher.elapsed_s() - fault.start_s  # cool down at the next reading
    return killed, took
