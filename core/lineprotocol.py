"""InfluxDB line protocol, both ways: readings to lines (the InfluxDB sinks) and lines to readings (``lp``).

Layout: measurement = asset kind, tags ``asset`` and ``site``, one field per metric, timestamps in
MILLISECONDS (writers use ``precision=ms``, so a replayed point overwrites itself). InfluxDB fixes a
field's type per measurement on first write, so numbers are ALWAYS written as floats (``3`` as ``3.0``,
never ``3i``) and flags as booleans: a sensor sending ``3`` and later ``3.5`` cannot hit a type conflict.

Parsing follows the InfluxDB line protocol reference: ``measurement[,tag=value...] field=value[,...]
[timestamp]`` with backslash escapes (``\\,``, ``\\=``, ``\\ `` and ``\\"`` in strings). Field values may be
floats, ``123i``/``123u`` integers (read as floats), booleans (t/true/True/TRUE, f/false/False/FALSE)
or strings (refused: no catalogue metric is a string).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from core.domain import AssetKind, MetricValue, Reading
from core.errors import FacmonError, InvalidMessage, RejectReason
from core.wire import TopicAddress

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_MEASUREMENT_SPECIALS = re.compile(r"([, ])")
_KEY_SPECIALS = re.compile(r"([,= ])")  # tag keys, tag values and field keys
_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+[iu]$")
_TIMESTAMP = re.compile(r"^-?\d{1,19}$")
_LITERAL_BACKSLASH_LOST = re.compile(r"\\(?=[,= ]|$)")
_ESCAPED = re.compile(r'\\([,= "])')  # InfluxDB: any other backslash is a literal one
_TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
_FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
# Timestamp precision -> (multiplier, divisor) to microseconds, the resolution of a datetime.
_KINDS = {kind.value: kind for kind in AssetKind}
_INF = math.inf
PRECISIONS: dict[str, tuple[int, int]] = {"ns": (1, 1000), "us": (1, 1), "ms": (1000, 1), "s": (1_000_000, 1)}


# -- encoding ---------------------------------------------------------------------------------------------
# Escaping is memoised: the same few measurement, tag and field names recur on every line the store writes.
@functools.lru_cache(maxsize=64)
def escape_measurement(name: str) -> str:
    return _MEASUREMENT_SPECIALS.sub(r"\\\1", _single_line(name))


@functools.lru_cache(maxsize=1 << 16)
def escape_key(text: str) -> str:
    """Escape a tag key, tag value or field key for line protocol."""
    return _KEY_SPECIALS.sub(r"\\\1", _single_line(text))


def _single_line(text: str) -> str:
    # None of these can be written in InfluxDB 1.x line protocol, escaped or not: InfluxDB reads a backslash
    # before a comma, space or equals sign as that character's escape.
    if "\n" in text or "\r" in text or _LITERAL_BACKSLASH_LOST.search(text):
        raise FacmonError("line protocol cannot carry a line break, a trailing backslash or one before "
                          f"',', ' ' or '=': {text!r}")
    return text


def format_field(value: MetricValue) -> str | None:
    """A field value: booleans as true/false, every number as a float; None for NaN and infinities."""
    if isinstance(value, bool):
        return "true" if value else "false"
    number = float(value)
    if not math.isfinite(number):
        return None  # line protocol has no NaN/inf; the collector rejects them before they get here
    return repr(number)  # "3.0", "1e+20": both read back as floats


def to_ms(at: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (exact, no float rounding)."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: times must be timezone-aware")
    return (at - _EPOCH) // _MS


def to_line(reading: Reading) -> str | None:
    """One line for ``reading`` (ms precision); None if it has no storable metric (all NaN/inf).

    The collector encodes every reading it accepts through here, so the common case (a finite float) is
    inline and the series key is memoised.
    """
    metrics = reading.metrics
    fields = []
    for name in sorted(metrics):
        value = metrics[name]
        if type(value) is float and -_INF < value < _INF:
            text: str | None = repr(value)
        elif (text := format_field(value)) is None:
            continue
        fields.append(f"{escape_key(name)}={text}")
    if not fields:
        return None
    return f"{_series(reading.kind.value, reading.asset_id, reading.site_id)} {','.join(fields)} {to_ms(reading.at)}"


@functools.lru_cache(maxsize=1 << 16)
def _series(kind: str, asset_id: str, site_id: str) -> str:
    """Measurement and tags, as InfluxDB wants them: tags sorted by key."""
    tags = f"asset={escape_key(asset_id)}"
    if site_id:  # line protocol drops empty tag values
        tags += f",site={escape_key(site_id)}"
    return f"{escape_measurement(kind)},{tags}"


def encode_reading(reading: Reading) -> str:
    """One line of line protocol; raises FacmonError if no metric can be written (all NaN/inf)."""
    line = to_line(reading)
    if line is None:
        raise FacmonError(f"reading of {reading.asset_id!r} at {reading.at.isoformat()} has no storable metric")
    return line


def encode_readings(readings: Iterable[Reading]) -> str:
    """Lines joined by newlines; readings with no storable metric are left out."""
    return "\n".join(line for reading in readings if (line := to_line(reading)) is not None)


# -- parsing ----------------------------------------------------------------------------------------------
def parse_lines(text: str, address: TopicAddress, precision: str = "ms",
                default_at: datetime | None = None) -> list[Reading]:
    """Readings from line-protocol ``text`` sent on ``address`` (one per line); raises InvalidMessage.

    The measurement must be the asset kind of the topic; ``asset`` and ``site`` tags, if present, must
    match the topic (other tags are ignored). A line without a timestamp takes ``default_at`` (the
    receive time); without one either, it is refused.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; one of {', '.join(PRECISIONS)}")
    readings = [_parse_line(line, address, PRECISIONS[precision], default_at) for line in _lines(text)]
    if not readings:
        raise InvalidMessage(RejectReason.INVALID_LINE_PROTOCOL, "no line-protocol lines in the payload")
    return readings


def read_line(line: str) -> Reading:
    """A line as ``to_line`` writes it (measurement = kind, tags ``asset`` and ``site``, ms timestamp) back to a
    Reading: the collector's spool records and the points InfluxDB refused. Raises InvalidMessage."""
    if "\\" not in line and '"' not in line:
        reading = _read_plain_line(line)
        if reading is not None:
            return reading
    sections = _sections(line)
    if len(sections) != 3:
        raise _invalid(f"expected 'measurement,tags fields timestamp', got {line[:120]!r}")
    measurement, *tags = _split(sections[0], ",")
    kind = _KINDS.get(_unescape(measurement))
    if kind is None:
        raise _invalid(f"measurement {measurement!r} is not an asset kind")
    names = dict(_tag(tag) for tag in tags)
    if not names.get("asset"):
        raise _invalid(f"line has no asset tag: {line[:120]!r}")
    return Reading(names.get("site", ""), kind, names["asset"], _timestamp(sections[2], PRECISIONS["ms"]),
                   _fields(sections[1]))


def _read_plain_line(line: str) -> Reading | None:
    """``read_line`` for a line with no escapes and no strings, as ours are: plain splits, no regular
    expressions (the rules read every spool record through here). None: let the full parser judge it."""
    sections = line.split(" ")
    if len(sections) != 3:
        return None
    measurement, *tags = sections[0].split(",")
    kind = _KINDS.get(measurement)
    site = asset = ""
    for tag in tags:
        key, _, value = tag.partition("=")
        if key == "asset":
            asset = value
        elif key == "site":
            site = value
    metrics: dict[str, MetricValue] = {}
    try:
        for field in sections[1].split(","):
            name, _, text = field.partition("=")
            flag = _PLAIN_FLAGS.get(text)
            if flag is not None:
                metrics[name] = flag
            elif name and -math.inf < (number := float(text)) < math.inf:
                metrics[name] = number
            else:
                return None
        at = _EPOCH + timedelta(milliseconds=int(sections[2]))
    except (ValueError, OverflowError):
        return None
    if kind is None or not asset:
        return None
    return Reading(site, kind, asset, at, metrics)


_PLAIN_FLAGS = {"true": True, "false": False}


def _tag(tag: str) -> tuple[str, str]:
    pair = _split(tag, "=")
    if len(pair) != 2 or not pair[0] or not pair[1]:
        raise _invalid(f"malformed tag {tag!r}")
    return _unescape(pair[0]), _unescape(pair[1])


def _lines(text: str) -> Iterator[str]:
    for raw in text.split("\n"):
        line = raw.rstrip("\r").strip(" \t")
        if line and not line.startswith("#"):
            yield line


def _sections(line: str) -> list[str]:
    """A line's space-separated sections: the series key, the fields, the timestamp if any. Quotes delimit
    strings in field values only (a quote in a tag value is a plain character)."""
    series = _split(line, " ")[0]
    return [series, *(part for part in _split(line[len(series) + 1:], " ", quotes=True) if part)]


def _invalid(detail: str) -> InvalidMessage:
    return InvalidMessage(RejectReason.INVALID_LINE_PROTOCOL, detail)


def _split(text: str, separator: str, quotes: bool = False) -> list[str]:
    """Split on unescaped ``separator`` (outside double quotes when ``quotes``); escapes are kept."""
    if "\\" not in text and (not quotes or '"' not in text):
        return text.split(separator)  # the common case, at C speed
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    chars = iter(text)
    for char in chars:
        if char == "\\":
            current.append(char)
            current.append(next(chars, ""))
        elif quotes and char == '"':
            quoted = not quoted
            current.append(char)
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise _invalid(f"unterminated string in {text!r}")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text) if "\\" in text else text


def _parse_line(line: str, address: TopicAddress, unit: tuple[int, int], default_at: datetime | None) -> Reading:
    sections = _sections(line)
    if len(sections) not in (2, 3):
        raise _invalid(f"expected 'measurement,tags fields [timestamp]', got {line[:120]!r}")
    series, fields = sections[0], sections[1]
    measurement, *tags = _split(series, ",")
    if _unescape(measurement) != address.kind.value:
        raise InvalidMessage(RejectReason.ASSET_MISMATCH, f"measurement {_unescape(measurement)!r} is not "
                             f"the topic's asset kind {address.kind.value!r}")
    for tag in tags:
        _check_tag(tag, address)
    at = _timestamp(sections[2], unit) if len(sections) == 3 else default_at
    if at is None:
        raise InvalidMessage(RejectReason.BAD_TIMESTAMP, "line has no timestamp and no receive time was given")
    return Reading(address.site_id, address.kind, address.asset_id, at, _fields(fields))


def _check_tag(tag: str, address: TopicAddress) -> None:
    key, value = _tag(tag)
    expected = {"asset": address.asset_id, "site": address.site_id}.get(key)
    if expected is not None and value != expected:
        raise InvalidMessage(RejectReason.ASSET_MISMATCH, f"tag {key}={value!r} but the topic says {expected!r}")


def _fields(text: str) -> dict[str, MetricValue]:
    metrics: dict[str, MetricValue] = {}
    for field in _split(text, ",", quotes=True):
        pair = _split(field, "=", quotes=True)
        if len(pair) != 2 or not pair[0] or not pair[1]:
            raise _invalid(f"malformed field {field!r}")
        metrics[_unescape(pair[0])] = _field_value(_unescape(pair[0]), pair[1])
    return metrics


def _field_value(name: str, text: str) -> MetricValue:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INTEGER.match(text):
        if text.endswith("u") and text.startswith("-"):
            raise _invalid(f"unsigned field {name!r} is negative: {text!r}")
        return float(int(text[:-1]))
    if _FLOAT.match(text):
        number = float(text)
        if not math.isfinite(number):
            raise InvalidMessage(RejectReason.NOT_FINITE, f"metric {name!r} is {text}")
        return number
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        raise InvalidMessage(RejectReason.WRONG_TYPE, f"metric {name!r} is a string; facmon metrics are "
                             "numbers or booleans")
    raise _invalid(f"field {name!r} has an unreadable value {text[:40]!r}")


def _timestamp(text: str, unit: tuple[int, int]) -> datetime:
    if not _TIMESTAMP.match(text):
        raise InvalidMessage(RejectReason.BAD_TIMESTAMP, f"timestamp {text[:40]!r} is not an integer")
    try:
        multiplier, divisor = unit
        return _EPOCH + timedelta(microseconds=int(text) * multiplier // divisor)
    except OverflowError:
        raise InvalidMessage(RejectReason.BAD_TIMESTAMP, f"timestamp {text} is out of range") from None
