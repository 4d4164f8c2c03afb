"""A Sparkplug B stream published by an independent library (pysparkplug) through real Mosquitto is ingested.

pysparkplug pins paho-mqtt 1.x while facmon needs 2.x, so it runs in its own virtual environment (built
once per machine from PyPI under the temp directory, or at $FACMON_PYSPARKPLUG_VENV) as a separate
process: its own protobuf code encodes, facmon's decodes.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.decode import Decoder
from collector.validate import TimeLimits
from core.clock import WallClock
from core.domain import Asset, AssetKind
from core.errors import InvalidMessage
from tests.services import Mosquitto

PYSPARKPLUG = "pysparkplug==0.6.1"
PUBLISHER = textwrap.dedent('''
    import sys, time
    from pysparkplug import DataType, Device, EdgeNode, Metric, get_current_timestamp

    host, port, group = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    node = EdgeNode(group, "gw1", [Metric(timestamp=None, name="Node Info/Firmware", datatype=DataType.STRING,
                                          value="1.0")])
    now = get_current_timestamp()
    node.register(Device("pump-1", [
        Metric(timestamp=now, name="Hydraulics/flow_m3h", datatype=DataType.DOUBLE, value=30.0, alias=1),
        Metric(timestamp=now, name="running", datatype=DataType.BOOLEAN, value=True, alias=2),
        Metric(timestamp=now, name="bearing_temp_c", datatype=DataType.FLOAT, value=40.5, alias=3),
        Metric(timestamp=now, name="starts", datatype=DataType.UINT32, value=12, alias=4),
        Metric(timestamp=now, name="Properties/Model", datatype=DataType.STRING, value="KSB-9", alias=5),
    ]))
    node.connect(host, port=port, blocking=False)
    deadline = time.monotonic() + 10
    while not node._connected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    for i in range(5):
        node.update_device("pump-1", [
            Metric(timestamp=get_current_timestamp(), name="Hydraulics/flow_m3h", datatype=DataType.DOUBLE,
                   value=31.0 + i, alias=1),
            Metric(timestamp=get_current_timestamp(), name="bearing_temp_c", datatype=DataType.FLOAT,
                   value=41.25 + i, alias=3),
        ])
        time.sleep(0.02)
    node.deregister("pump-1")
    time.sleep(0.2)
    node.disconnect()
    print("published")
''')


@pytest.fixture(scope="session")
def pysparkplug_python() -> Path:
    venv = Path(os.environ.get("FACMON_PYSPARKPLUG_VENV", Path(tempfile.gettempdir()) / "facmon-pysparkplug-0.6.1"))
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import pysparkplug"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python
    steps = [[sys.executable, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", PYSPARKPLUG]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.fail(f"could not install {PYSPARKPLUG} (from PyPI) into {venv}: {done.stderr[-2000:]}")
    return python


class Pump:
    def __init__(self, site: str) -> None:
        self.site = site

    def find(self, asset_id: str) -> Asset | None:
        return Asset("pump-1", self.site, AssetKind.PUMP, "Pump 1") if asset_id == "pump-1" else None


def published(mosquitto: Mosquitto, site: str, python: Path, script: str, last: str) -> list[tuple[str, bytes]]:
    """What ``script`` (run by ``python`` with host, port and site) publishes under the site, up to the
    first message whose topic holds ``last``, as received by a subscriber through Mosquitto."""
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"host-{site}")
    client.on_message = lambda _c, _u, message: received.put((message.topic, bytes(message.payload)))
    client.connect(mosquitto.host, mosquitto.port)
    client.subscribe(f"spBv1.0/{site}/#", qos=1)
    client.loop_start()
    try:
        time.sleep(0.2)
        done = subprocess.run([str(python), "-c", script, mosquitto.host, str(mosquitto.port), site],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        messages: list[tuple[str, bytes]] = []
        deadline = time.monotonic() + 10
        while not any(last in topic for topic, _ in messages) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                messages.append(received.get(timeout=0.1))
    finally:
        client.loop_stop()
        client.disconnect()
    return messages


@pytest.mark.integration
def test_a_pysparkplug_edge_node_is_ingested(mosquitto: Mosquitto, unique_site: str,
                                             pysparkplug_python: Path) -> None:
    messages = published(mosquitto, unique_site, pysparkplug_python, PUBLISHER, "/NDEATH/")
    kinds = [topic.split("/")[2] for topic, _ in messages]
    assert kinds == ["NBIRTH", "DBIRTH", *["DDATA"] * 5, "DDEATH", "NDEATH"]
    decoder = Decoder(Pump(unique_site), TimeLimits(timedelta(days=1), timedelta(minutes=5)), 65536, WallClock())
    readings, statuses, rejected = [], [], []
    for topic, payload in messages:
        try:
            result = decoder.decode(topic, payload)
        except InvalidMessage as error:
            rejected.append(error)
            continue
        readings.extend(result.readings)
        statuses.extend(result.statuses)
        assert result.reply == []  # no gap, no rebirth request
    assert rejected == []
    assert statuses == [("pump-1", "online"), ("pump-1", "offline")]
    assert {r.asset_id for r in readings} == {"pump-1"}
    assert {r.site_id for r in readings} == {unique_site}
    flows = [r.metrics["flow_m3h"] for r in readings if "flow_m3h" in r.metrics]
    temps = [r.metrics["bearing_temp_c"] for r in readings if "bearing_temp_c" in r.metrics]
    assert flows == [30.0, 31.0, 32.0, 33.0, 34.0, 35.0]
    assert temps == [40.5, 41.25, 42.25, 43.25, 44.25, 45.25]
    birth = readings[0].metrics
    assert birth["running"] is True
    assert birth["starts"] == 12.0
    stats = decoder.stats()
    assert stats["sparkplug_seq_gaps"] == {}
    assert stats["sparkplug_unmapped_metrics"] == {}


# Templates and DataSets: pysparkplug 0.6.1 marks both "unsupported" in its API, but ships the full Eclipse
# Tahu schema as generated code; the edge node here builds its payloads with those classes (not facmon's)
# and publishes them with paho 1.x.
COMPLEX_PUBLISHER = textwrap.dedent('''
    import sys, time
    import paho.mqtt.client as mqtt
    from pysparkplug._protobuf import Payload

    host, port, group = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    now = int(time.time() * 1000)
    client = mqtt.Client(client_id="gw2-" + group)
    client.connect(host, port)
    client.loop_start()

    def publish(kind, payload, device=""):
        topic = f"spBv1.0/{group}/{kind}/gw2" + (f"/{device}" if device else "")
        client.publish(topic, payload.SerializeToString(), qos=1).wait_for_publish()

    node = Payload(timestamp=now, seq=0)
    node.metrics.add(name="bdSeq", datatype=8, long_value=0)
    publish("NBIRTH", node)
    birth = Payload(timestamp=now, seq=1)
    pump = birth.metrics.add(name="Pump", alias=1, datatype=19)
    pump.template_value.template_ref = "Booster"
    pump.template_value.metrics.add(name="flow_m3h", datatype=10, double_value=30.0)
    pump.template_value.metrics.add(name="running", datatype=11, boolean_value=True)
    log = birth.metrics.add(name="Log", alias=2, datatype=16)
    log.dataset_value.num_of_columns = 2
    log.dataset_value.columns.extend(["timestamp", "bearing_temp_c"])
    log.dataset_value.types.extend([13, 9])
    for i, temp in enumerate((40.5, 41.25)):
        row = log.dataset_value.rows.add()
        row.elements.add(long_value=now - 2000 + 1000 * i)
        row.elements.add(float_value=temp)
    publish("DBIRTH", birth, "pump-1")
    data = Payload(timestamp=now + 500, seq=2)
    update = data.metrics.add(alias=1, datatype=19)
    update.template_value.template_ref = "Booster"
    update.template_value.metrics.add(name="flow_m3h", datatype=10, double_value=31.5)
    publish("DDATA", data, "pump-1")
    client.loop_stop()
    client.disconnect()
''')


@pytest.mark.integration
def test_templates_and_datasets_from_the_tahu_schema_are_ingested(mosquitto: Mosquitto, unique_site: str,
                                                                  pysparkplug_python: Path) -> None:
    messages = published(mosquitto, unique_site, pysparkplug_python, COMPLEX_PUBLISHER, "/DDATA/")
    assert [topic.split("/")[2] for topic, _ in messages] == ["NBIRTH", "DBIRTH", "DDATA"]
    decoder = Decoder(Pump(unique_site), TimeLimits(timedelta(days=1), timedelta(minutes=5)), 65536, WallClock())
    readings = [reading for topic, payload in messages for reading in decoder.decode(topic, payload).readings]
    assert [r.metrics for r in readings] == [{"bearing_temp_c": 40.5}, {"bearing_temp_c": 41.25},
                                             {"flow_m3h": 30.0, "running": True}, {"flow_m3h": 31.5}]
    assert readings[1].at - readings[0].at == timedelta(seconds=1)  # each row at its own timestamp
    assert readings[2].at - readings[1].at == timedelta(seconds=1)
    assert decoder.stats()["sparkplug_unmapped_metrics"] == {}
