"""Eclipse Sparkplug B: topics and the protobuf payload codec (NBIRTH/DBIRTH/NDATA/DDATA/NDEATH/DDEATH/NCMD).

Topic: ``spBv1.0/{group}/{message_type}/{edge_node}[/{device}]``. Payload: a protobuf ``Payload`` with a
timestamp (ms), ``seq`` (0-255, wrapping; every message of an edge node but NDEATH carries the next one,
NBIRTH starts at 0) and metrics (name and/or alias, datatype, value, optional timestamp). A birth names
every metric with its alias; data messages may carry the alias only. ``bdSeq`` (a metric of NBIRTH and
NDEATH) pairs a birth with the death the broker publishes as the node's last will.

The schema is a wire-compatible subset of the Sparkplug B payload (core/sparkplug_proto/, generated once
with grpcio-tools). Metric values are scalars, a ``DataSet`` (a table: named, typed columns and rows of
scalars) or a ``Template`` (an instance of a user-defined type: nested metrics, themselves any of these).
Mapping to facmon (the collector's session, collector/sparkplug.py, applies it): Sparkplug group -> site,
device -> asset, metric name -> catalogue metric name.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import DecodeError

from core.errors import InvalidMessage, RejectReason
from core.sparkplug_proto import facmon_sparkplug_b_pb2

NAMESPACE = "spBv1.0"
BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_PB: Any = facmon_sparkplug_b_pb2  # generated code, untyped


class MessageType(enum.StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"
    STATE = "STATE"


class DataType(enum.IntEnum):
    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19


_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
_INT_FIELD = {DataType.INT8, DataType.INT16, DataType.INT32, DataType.UINT8, DataType.UINT16, DataType.UINT32}
_LONG_FIELD = {DataType.INT64, DataType.UINT64, DataType.DATETIME}
_STRING_FIELD = {DataType.STRING, DataType.TEXT, DataType.UUID}
_BYTES_FIELD = {DataType.BYTES, DataType.FILE}
_COMPOSITE_FIELDS = frozenset({"dataset_value", "template_value"})

Scalar = bool | int | float | str | bytes | None


@dataclass(frozen=True, slots=True)
class SpbTopic:
    group: str
    message_type: MessageType
    edge_node: str
    device: str | None = None


@dataclass(frozen=True, slots=True)
class DataSet:
    """A table: ``columns`` named and typed (``types``), each row one scalar per column (None: unset)."""

    columns: tuple[str, ...]
    types: tuple[DataType, ...]
    rows: tuple[tuple[Scalar, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Template:
    """A user-defined type: a definition (``is_definition``, in an NBIRTH) or an instance of one
    (``template_ref`` names it) whose ``metrics`` carry the values."""

    metrics: tuple[Metric, ...] = ()
    template_ref: str | None = None
    is_definition: bool = False
    version: str | None = None


SpbValue = Scalar | DataSet | Template


@dataclass(frozen=True, slots=True)
class Metric:
    """One Sparkplug metric: a birth gives name, alias and datatype; data may give the alias alone."""

    name: str | None = None
    alias: int | None = None
    datatype: DataType = DataType.UNKNOWN
    value: SpbValue = None  # None: null (is_null), or a value facmon does not read (a PropertySet ...)
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    timestamp_ms: int | None = None
    metrics: tuple[Metric, ...] = field(default_factory=tuple)
    seq: int | None = None


# -- topics -----------------------------------------------------------------------------------------------
def spb_topic(group: str, message_type: MessageType | str, edge_node: str, device: str | None = None) -> str:
    kind = MessageType(message_type)
    tail = f"/{device}" if device is not None else ""
    return f"{NAMESPACE}/{group}/{kind.value}/{edge_node}{tail}"


def parse_spb_topic(topic: str) -> SpbTopic:
    """Split a Sparkplug B topic; raises InvalidMessage(invalid_sparkplug) if it is not one.

    ``spBv1.0/STATE/{host_id}`` gives group "" and the host id as ``edge_node``.
    """
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == NAMESPACE and parts[1] == MessageType.STATE.value and parts[2]:
        return SpbTopic("", MessageType.STATE, parts[2])  # a host application's state (Sparkplug 3.0)
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE or not all(parts[1:]):
        raise InvalidMessage(RejectReason.INVALID_SPARKPLUG, f"not a Sparkplug B topic: {topic[:200]!r}")
    if parts[2] not in MessageType.__members__:
        raise InvalidMessage(RejectReason.INVALID_SPARKPLUG, f"unknown Sparkplug message type {parts[2][:40]!r}")
    kind = MessageType(parts[2])
    device = parts[4] if len(parts) == 5 else None
    if (device is not None) != (kind in (MessageType.DBIRTH, MessageType.DDEATH, MessageType.DDATA,
                                         MessageType.DCMD)):
        raise InvalidMessage(RejectReason.INVALID_SPARKPLUG, f"{kind.value} with a wrong topic: {topic[:200]!r}")
    return SpbTopic(parts[1], kind, parts[3], device)


# -- payloads ---------------------------------------------------------------------------------------------
def to_ms(at: datetime) -> int:
    return (at - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def next_seq(seq: int) -> int:
    return (seq + 1) % 256


def encode_payload(payload: Payload) -> bytes:
    message = _PB.Payload()
    if payload.timestamp_ms is not None:
        message.timestamp = payload.timestamp_ms
    if payload.seq is not None:
        message.seq = payload.seq
    for metric in payload.metrics:
        _encode_metric(message.metrics.add(), metric)
    data: bytes = message.SerializeToString()
    return data


def decode_payload(data: bytes) -> Payload:
    """Read a Sparkplug B payload; raises InvalidMessage(invalid_sparkplug) when it is not one."""
    message = _PB.Payload()
    try:
        message.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as error:
        raise InvalidMessage(RejectReason.INVALID_SPARKPLUG, f"not a Sparkplug B payload: {error}") from None
    return Payload(
        message.timestamp if message.HasField("timestamp") else None,
        tuple(_decode_metric(metric) for metric in message.metrics),
        message.seq if message.HasField("seq") else None,
    )


def birth_payload(metrics: Iterable[Metric], seq: int, at: datetime, bd_seq: int | None = None) -> Payload:
    """An NBIRTH (with ``bd_seq`` and the rebirth control metric) or a DBIRTH (``bd_seq`` None)."""
    extra: list[Metric] = []
    if bd_seq is not None:
        extra = [Metric(BD_SEQ, None, DataType.INT64, bd_seq), Metric(REBIRTH, None, DataType.BOOLEAN, False)]
    return Payload(to_ms(at), (*extra, *metrics), seq)


def data_payload(values: Sequence[tuple[int, DataType, SpbValue]], seq: int, at: datetime) -> Payload:
    """An NDATA/DDATA carrying (alias, datatype, value) triples."""
    return Payload(to_ms(at), tuple(Metric(None, alias, datatype, value) for alias, datatype, value in values), seq)


def death_payload(bd_seq: int, at: datetime | None = None) -> Payload:
    """An NDEATH (the node's last will: bdSeq only, no seq)."""
    return Payload(to_ms(at) if at else None, (Metric(BD_SEQ, None, DataType.INT64, bd_seq),))


def device_death_payload(seq: int, at: datetime) -> Payload:
    return Payload(to_ms(at), (), seq)


def rebirth_command(at: datetime) -> bytes:
    """The NCMD payload a host sends to ask an edge node to publish its births again."""
    return encode_payload(Payload(to_ms(at), (Metric(REBIRTH, None, DataType.BOOLEAN, True),)))


def host_state_topic(host_id: str) -> str:
    """Sparkplug 3.0 host application state: ``spBv1.0/STATE/{host_id}`` (retained, QoS 1)."""
    return f"{NAMESPACE}/{MessageType.STATE.value}/{host_id}"


def host_state_payload(online: bool, at: datetime) -> bytes:
    """The STATE payload (JSON, not protobuf): online in the birth, offline in the will and at shutdown."""
    return json.dumps({"online": online, "timestamp": to_ms(at)}, separators=(",", ":")).encode()


def bd_seq_of(payload: Payload) -> int | None:
    for metric in payload.metrics:
        if metric.name == BD_SEQ and isinstance(metric.value, int) and not isinstance(metric.value, bool):
            return metric.value
    return None


def _encode_metric(target: Any, metric: Metric) -> None:
    if metric.name is not None:
        target.name = metric.name
    if metric.alias is not None:
        target.alias = metric.alias
    if metric.timestamp_ms is not None:
        target.timestamp = metric.timestamp_ms
    target.datatype = int(metric.datatype)
    value = metric.value
    if value is None:
        target.is_null = True
    elif isinstance(value, DataSet):
        _encode_dataset(target.dataset_value, value)
    elif isinstance(value, Template):
        _encode_template(target.template_value, value)
    else:
        _encode_scalar(target, metric.datatype, value)


def _encode_scalar(target: Any, datatype: DataType, value: Scalar) -> None:
    if value is None:
        return
    if datatype in _INT_FIELD:
        target.int_value = _to_unsigned(int(value), 32)
    elif datatype in _LONG_FIELD:
        target.long_value = _to_unsigned(int(value), 64)
    elif datatype is DataType.FLOAT:
        target.float_value = float(value)
    elif datatype is DataType.DOUBLE:
        target.double_value = float(value)
    elif datatype is DataType.BOOLEAN:
        target.boolean_value = bool(value)
    elif datatype in _STRING_FIELD:
        target.string_value = str(value)
    elif datatype in _BYTES_FIELD and isinstance(value, bytes):
        target.bytes_value = value
    else:
        raise ValueError(f"cannot encode {value!r} as Sparkplug {datatype.name}")


def _encode_dataset(target: Any, dataset: DataSet) -> None:
    target.num_of_columns = len(dataset.columns)
    target.columns.extend(dataset.columns)
    target.types.extend(int(datatype) for datatype in dataset.types)
    for row in dataset.rows:
        elements = target.rows.add().elements
        for datatype, value in zip(dataset.types, row, strict=True):
            _encode_scalar(elements.add(), datatype, value)


def _encode_template(target: Any, template: Template) -> None:
    if template.version is not None:
        target.version = template.version
    if template.template_ref is not None:
        target.template_ref = template.template_ref
    target.is_definition = template.is_definition
    for metric in template.metrics:
        _encode_metric(target.metrics.add(), metric)


def _to_unsigned(value: int, bits: int) -> int:
    return value % (1 << bits)  # two's complement in the unsigned field, as Sparkplug B stores signed ints


def _decode_metric(metric: Any) -> Metric:
    try:
        datatype = DataType(metric.datatype)
    except ValueError:
        datatype = DataType.UNKNOWN
    return Metric(
        metric.name if metric.HasField("name") else None,
        metric.alias if metric.HasField("alias") else None,
        datatype,
        None if metric.is_null else _decode_value(metric, datatype),
        metric.timestamp if metric.HasField("timestamp") else None,
    )


def _decode_value(metric: Any, datatype: DataType) -> SpbValue:
    which = metric.WhichOneof("value")
    if which not in _COMPOSITE_FIELDS:
        return _scalar(metric, which, datatype)
    if which == "dataset_value":
        return _decode_dataset(metric.dataset_value)
    template = metric.template_value
    return Template(tuple(_decode_metric(nested) for nested in template.metrics),
                    template.template_ref if template.HasField("template_ref") else None,
                    template.is_definition, template.version if template.HasField("version") else None)


def _decode_dataset(dataset: Any) -> DataSet:
    """The table as sent; a row shorter or longer than the columns is refused (invalid_sparkplug)."""
    columns = tuple(dataset.columns)
    types = tuple(DataType(t) if t in DataType._value2member_map_ else DataType.UNKNOWN for t in dataset.types)
    if len(types) != len(columns) or any(len(row.elements) != len(columns) for row in dataset.rows):
        raise InvalidMessage(RejectReason.INVALID_SPARKPLUG, f"a DataSet of {len(columns)} columns with "
                             f"{len(types)} types or a row of another length")
    rows = tuple(tuple(_decode_scalar(element, datatype) for element, datatype in zip(row.elements, types,
                                                                                     strict=True))
                 for row in dataset.rows)
    return DataSet(columns, types, rows)


def _decode_scalar(metric: Any, datatype: DataType) -> Scalar:
    return _scalar(metric, metric.WhichOneof("value"), datatype)


def _scalar(metric: Any, which: str | None, datatype: DataType) -> Scalar:
    if which is None:
        return None
    raw: Scalar = getattr(metric, which)
    if isinstance(raw, int) and not isinstance(raw, bool) and datatype in _SIGNED_BITS:
        return _signed(raw, _SIGNED_BITS[datatype], 64 if which == "long_value" else 32)
    if isinstance(raw, float) and which == "float_value" and math.isfinite(raw):
        return float(f"{raw:.7g}")  # a float32 read back as the decimal the sender most likely meant
    return raw


def _signed(raw: int, bits: int, field_bits: int) -> int:
    """Undo two's complement: senders sign-extend to the field (Java Tahu) or to the type's width (Python Tahu)."""
    if raw >= 1 << (field_bits - 1):
        return raw - (1 << field_bits)
    if raw >= 1 << (bits - 1) and raw < 1 << bits:
        return raw - (1 << bits)
    return raw
