"""The collector's Sparkplug B host session: births, aliases, seq checks, rebirth requests, deaths.

State per edge node (group, edge node): the bdSeq of its NBIRTH, the last ``seq``, and per device the
aliases its DBIRTH defined. Rules (Sparkplug B 3.0, host application side):
- NBIRTH starts a session (devices must be born again); DBIRTH defines a device's metrics and aliases and
  marks it online; its values are readings too.
- NDATA/DDATA carry values by alias (or name); data from a node or device whose birth was not seen is
  rejected (``sparkplug_no_birth``) and a rebirth is requested.
- Every message but NDEATH carries the next ``seq`` (0-255, wrapping); on a gap the data is kept (aliases
  do not change within a session), the gap is counted and one rebirth NCMD is requested.
- DDEATH marks the device offline; NDEATH (matching bdSeq; a stale one is ignored) marks every device of
  the node offline and ends the session.
- NCMD, DCMD and STATE are not telemetry: ignored.

Mapping: group -> site, device -> asset (kind from the registry), metric name -> the catalogue name of its
last ``/`` segment (``Hydraulics/flow_m3h`` -> ``flow_m3h``). A Template instance's members are metrics
named ``<metric>/<member>`` (``Pump/flow_m3h`` -> ``flow_m3h``); a DataSet's columns likewise
(``<metric>/<column>``), one reading per row (its ``timestamp`` column, if any, gives the row's time).
Sparkplug's own metrics (``bdSeq``, ``Node Control/*``, ``Device Control/*``, ``Properties/*``) and names
the asset's kind does not have are not stored; they are counted per name in ``unmapped``. Node-level
metrics are not stored (an edge node is a gateway, not an asset).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.catalogue import metric_spec
from core.domain import Asset, AssetKind, MetricValue, Reading
from core.errors import InvalidMessage, RejectReason
from core.sparkplug import (
    DataSet,
    DataType,
    MessageType,
    Metric,
    Payload,
    SpbTopic,
    SpbValue,
    Template,
    bd_seq_of,
    from_ms,
    next_seq,
    rebirth_command,
    spb_topic,
)
from core.wire import OFFLINE, ONLINE

_SPARKPLUG_OWN = ("bdSeq", "Node Control/", "Device Control/", "Properties/")

Reply = tuple[str, bytes]
Sample = tuple[str, DataType, SpbValue, datetime]
_COMPOSITE = (DataSet, Template)
_TIME_COLUMNS = frozenset({"timestamp", "ts", "time"})
_TIME_TYPES = frozenset({DataType.DATETIME, DataType.UINT64, DataType.INT64})
Status = tuple[str, str]


class SparkplugRejected(InvalidMessage):
    """A rejected Sparkplug message that still asks for messages to be published (a rebirth request)."""

    def __init__(self, reason: str, detail: str, reply: list[Reply]) -> None:
        super().__init__(reason, detail)
        self.reply = reply


@dataclass
class Outcome:
    readings: list[Reading] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    reply: list[Reply] = field(default_factory=list)


@dataclass
class _Node:
    bd_seq: int | None
    seq: int | None
    devices: dict[str, dict[int, str]] = field(default_factory=dict)  # device -> alias -> metric name
    rebirth_requested: bool = False


class SparkplugSession:
    """Host-side state of every edge node seen; ``handle`` one decoded message at a time (one thread)."""

    def __init__(self, births_required: bool = True) -> None:
        # births_required=False (dead-letter reprocessing): a message out of its live session is read on its
        # own: no birth needed, no seq check, no rebirth request; metrics must then carry their names.
        self._births_required = births_required
        self._nodes: dict[tuple[str, str], _Node] = {}
        self.seq_gaps: Counter[str] = Counter()  # per "group/edge_node"
        self.rebirths_requested = 0
        self.unmapped: Counter[str] = Counter()
        # (kind, Sparkplug name) -> catalogue name; None: Sparkplug's own metric; "": not in the catalogue
        self._names: dict[tuple[AssetKind, str], str | None] = {}

    def handle(self, topic: SpbTopic, payload: Payload, asset: Asset | None, received_at: datetime) -> Outcome:
        """Apply one message; ``asset`` is the registry's entry for ``topic.device`` (None: unknown)."""
        kind = topic.message_type
        if kind in (MessageType.NCMD, MessageType.DCMD, MessageType.STATE):
            return Outcome()
        if kind is MessageType.NBIRTH:
            self._nodes[(topic.group, topic.edge_node)] = _Node(bd_seq_of(payload), payload.seq)
            return Outcome()
        if kind is MessageType.NDEATH:
            return self._node_death(topic, payload)
        node = self._nodes.get((topic.group, topic.edge_node))
        if node is None and not self._births_required:
            node = self._nodes.setdefault((topic.group, topic.edge_node), _Node(None, None))
        if node is None:
            raise self._no_birth(topic, f"{kind.value} from edge node {topic.edge_node!r} before its NBIRTH")
        outcome = Outcome(reply=self._check_seq(topic, node, payload.seq) if self._births_required else [])
        if kind is MessageType.NDATA:
            return outcome
        device = topic.device or ""
        if kind is MessageType.DBIRTH:
            node.devices[device] = {m.alias: m.name for m in payload.metrics
                                    if m.alias is not None and m.name is not None}
            outcome.statuses.append((device, ONLINE))
        elif device not in node.devices:
            if self._births_required:
                raise self._no_birth(topic, f"{kind.value} from device {device!r} before its DBIRTH", outcome.reply)
            node.devices[device] = {}
        if kind is MessageType.DDEATH:
            del node.devices[device]
            outcome.statuses.append((device, OFFLINE))
            return outcome
        outcome.readings = self._readings(topic, payload, node.devices[device], asset, received_at)
        return outcome

    def stats(self) -> dict[str, Any]:
        return {"sparkplug_nodes": len(self._nodes), "sparkplug_seq_gaps": dict(self.seq_gaps),
                "sparkplug_rebirths_requested": self.rebirths_requested,
                "sparkplug_unmapped_metrics": dict(self.unmapped)}

    # -- steps ----------------------------------------------------------------------------------------
    def _node_death(self, topic: SpbTopic, payload: Payload) -> Outcome:
        node = self._nodes.get((topic.group, topic.edge_node))
        death_bd_seq = bd_seq_of(payload)
        if node is None or (death_bd_seq is not None and node.bd_seq is not None and death_bd_seq != node.bd_seq):
            return Outcome()  # the will of an older session: the node has been born again since
        del self._nodes[(topic.group, topic.edge_node)]
        return Outcome(statuses=[(device, OFFLINE) for device in node.devices])

    def _check_seq(self, topic: SpbTopic, node: _Node, seq: int | None) -> list[Reply]:
        if seq is None:
            return []
        expected = None if node.seq is None else next_seq(node.seq)
        node.seq = seq
        if expected is None or seq == expected:
            return []
        self.seq_gaps[f"{topic.group}/{topic.edge_node}"] += 1
        return self._rebirth(topic, node)

    def _rebirth(self, topic: SpbTopic, node: _Node | None) -> list[Reply]:
        if node is not None:
            if node.rebirth_requested:
                return []  # asked once already; the NBIRTH that answers resets the node
            node.rebirth_requested = True
        self.rebirths_requested += 1
        # The command's timestamp is informative only; 0 keeps this step free of the wall clock.
        return [(spb_topic(topic.group, MessageType.NCMD, topic.edge_node), rebirth_command(from_ms(0)))]

    def _no_birth(self, topic: SpbTopic, detail: str, reply: list[Reply] | None = None) -> SparkplugRejected:
        node = self._nodes.get((topic.group, topic.edge_node))
        return SparkplugRejected(RejectReason.NO_BIRTH, detail, (reply or []) + self._rebirth(topic, node))

    def _readings(self, topic: SpbTopic, payload: Payload, aliases: dict[int, str], asset: Asset | None,
                  received_at: datetime) -> list[Reading]:
        if asset is None:
            raise InvalidMessage(RejectReason.UNKNOWN_ASSET, f"Sparkplug device {topic.device!r} is not a "
                                 "registered asset")
        by_time: dict[datetime, dict[str, MetricValue]] = {}
        message_at = _time(payload.timestamp_ms) if payload.timestamp_ms is not None else received_at
        for metric in payload.metrics:
            name = _metric_name(metric, aliases)
            if isinstance(metric.value, _COMPOSITE):
                for member, datatype, value, at in _samples(name, metric, message_at):
                    self._put(by_time, member, datatype, value, at, asset)
            elif metric.value is not None:  # the common case, without the generator
                at = _time(metric.timestamp_ms) if metric.timestamp_ms is not None else message_at
                self._put(by_time, name, metric.datatype, metric.value, at, asset)
        return [Reading(topic.group, asset.kind, asset.id, at, metrics) for at, metrics in sorted(by_time.items())]

    def _put(self, by_time: dict[datetime, dict[str, MetricValue]], name: str, datatype: DataType,
             value: SpbValue, at: datetime, asset: Asset) -> None:
        mapped = self._catalogue_name(name, asset)
        if mapped is not None and value is not None:
            by_time.setdefault(at, {})[mapped] = _metric_value(mapped, datatype, value)

    def _catalogue_name(self, name: str, asset: Asset) -> str | None:
        key = (asset.kind, name)
        if key not in self._names:
            short = name.rsplit("/", 1)[-1]
            own = name.startswith(_SPARKPLUG_OWN)
            self._names[key] = None if own else short if metric_spec(asset.kind, short) is not None else ""
        mapped = self._names[key]
        if mapped == "":
            self.unmapped[name] += 1
            return None
        return mapped


def _time(ms: int) -> datetime:
    try:
        return from_ms(ms)
    except (OverflowError, ValueError):
        raise InvalidMessage(RejectReason.BAD_TIMESTAMP, f"Sparkplug timestamp {ms} ms is out of range") from None


def _metric_name(metric: Metric, aliases: dict[int, str]) -> str:
    if metric.name is not None:
        return metric.name
    if metric.alias is None or metric.alias not in aliases:
        raise InvalidMessage(RejectReason.UNKNOWN_ALIAS, f"metric alias {metric.alias} was not defined by the "
                             "device's birth")
    return aliases[metric.alias]


def _samples(name: str, metric: Metric, message_at: datetime) -> Iterator[Sample]:
    """(name, datatype, value, time) of every scalar a metric carries: itself, each cell of a DataSet
    (``name/column``, one time per row), each member of a Template instance (``name/member``, nested
    ones flattened); a Template definition carries none."""
    at = _time(metric.timestamp_ms) if metric.timestamp_ms is not None else message_at
    value = metric.value
    if isinstance(value, Template):
        if not value.is_definition:
            for member in value.metrics:
                if member.name is not None:  # members are named (aliases are the top level's)
                    yield from _samples(f"{name}/{member.name}", member, at)
        return
    if isinstance(value, DataSet):
        yield from _rows(name, value, at)
        return
    yield name, metric.datatype, value, at


def _rows(name: str, dataset: DataSet, at: datetime) -> Iterator[Sample]:
    """A DataSet's cells; a ``timestamp``/``ts``/``time`` column of epoch milliseconds (or DateTime) gives
    each row's time, else every row is at the metric's time (and a later row wins)."""
    clock = next((i for i, column in enumerate(dataset.columns) if column.lower() in _TIME_COLUMNS
                  and dataset.types[i] in _TIME_TYPES), None)
    for row in dataset.rows:
        stamp = row[clock] if clock is not None else None
        row_at = _time(stamp) if isinstance(stamp, int) and not isinstance(stamp, bool) else at
        for index, (column, datatype, value) in enumerate(zip(dataset.columns, dataset.types, row, strict=True)):
            if index != clock:
                yield f"{name}/{column}", datatype, value, row_at


def _metric_value(name: str, datatype: DataType, value: SpbValue) -> MetricValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidMessage(RejectReason.NOT_FINITE, f"Sparkplug metric {name!r} is {value}")
        return float(value)
    raise InvalidMessage(RejectReason.WRONG_TYPE, f"Sparkplug metric {name!r} is a {datatype.name}, "
                         "not a number or boolean")
