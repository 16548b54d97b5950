"""Encodes stored event state as JSON bytes with orjson, tagging every non-JSON value
so it decodes to exactly the same Python value."""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson
from eventsourcing.persistence import Transcoder
from eventsourcing.utils import get_topic, resolve_topic

TAG = "_type_"
DATA = "_data_"
# orjson writes ints in this range natively; it refuses larger ones and reads
# them back as floats, so anything outside must be tagged.
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
_TAG_BYTES = b'"' + TAG.encode() + b'"'


def _tagged(name: str, data: Any) -> dict[str, Any]:
    return {TAG: name, DATA: data}


def _encode_timedelta(td: timedelta) -> list[int]:
    return [td.days, td.seconds, td.microseconds]


def _encode_tz(tz: timezone) -> list[Any]:
    offset = tz.utcoffset(None) or timedelta(0)
    name = tz.tzname(None)
    # A custom name is lost by isoformat() and by timezone(offset), so keep it.
    custom = name if name != timezone(offset).tzname(None) else None
    return [_encode_timedelta(offset), custom]


def _decode_tz(offset: list[int], name: str | None) -> timezone:
    delta = timedelta(*offset)
    return timezone(delta) if name is None else timezone(delta, name)


def _encode_zoneinfo(tz: ZoneInfo) -> str:
    if tz.key is None:
        raise TypeError("Cannot encode a ZoneInfo that has no key")
    return tz.key


def _in_isoformat(tz: timezone) -> bool:
    """Whether isoformat() and fromisoformat() carry this fixed offset exactly: named
    as timezone(offset) names it, and in whole seconds (Python 3.11 reads an offset
    of under a second, "+00:00:00.000001", back as +00:00)."""
    offset, custom = _encode_tz(tz)
    return custom is None and offset[2] == 0


def _encode_clock(value: datetime | time) -> Any:
    tz = value.tzinfo
    # isoformat() carries the usual UTC event timestamp in one short string; other
    # zones, offsets isoformat() would not carry exactly, and fold need more.
    if value.fold == 0 and (tz is None or (type(tz) is timezone and _in_isoformat(tz))):
        return value.isoformat()
    return [value.replace(tzinfo=None).isoformat(), value.fold, encode_value(tz)]


def _decode_clock(data: Any, parse: Callable[[str], Any]) -> Any:
    if type(data) is str:
        return parse(data)
    iso, fold, tz = data
    return parse(iso).replace(fold=fold, tzinfo=decode_value(tz))


def _encode_enum(member: Enum) -> list[Any]:
    return [get_topic(type(member)), encode_value(member.value)]


def _decode_enum(data: list[Any]) -> Enum:
    topic, value = data
    cls = resolve_topic(topic)
    if not (isinstance(cls, type) and issubclass(cls, Enum)):
        raise ValueError(f"Topic {topic!r} under the 'enum' tag is not an Enum")
    return cls(decode_value(value))


def _encode_dataclass(obj: Any) -> list[Any]:
    fields = {
        f.name: encode_value(getattr(obj, f.name)) for f in dataclasses.fields(obj)
    }
    return [get_topic(type(obj)), fields]


def _decode_dataclass(data: list[Any]) -> Any:
    topic, fields = data
    cls = resolve_topic(topic)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"Topic {topic!r} under the 'dataclass' tag is not one")
    # Bypassing __init__ keeps frozen classes and __post_init__ checks out of
    # the way, the same way the Mapper rebuilds events.
    obj = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(obj, name, decode_value(value))
    return obj


def _pairs(d: dict[Any, Any]) -> list[list[Any]]:
    return [[encode_value(k), encode_value(v)] for k, v in d.items()]


_ENCODERS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    tuple: ("tuple", lambda v: [encode_value(x) for x in v]),
    set: ("set", lambda v: [encode_value(x) for x in v]),
    frozenset: ("frozenset", lambda v: [encode_value(x) for x in v]),
    UUID: ("uuid", lambda v: v.hex),
    datetime: ("datetime", _encode_clock),
    date: ("date", lambda v: v.isoformat()),
    time: ("time", _encode_clock),
    timedelta: ("timedelta", _encode_timedelta),
    timezone: ("timezone", _encode_tz),
    ZoneInfo: ("zoneinfo", _encode_zoneinfo),
    Decimal: ("decimal", str),
    bytes: ("bytes", lambda v: base64.b64encode(v).decode("ascii")),
}

_DECODERS: dict[str, Callable[[Any], Any]] = {
    "dict": lambda d: {decode_value(k): decode_value(v) for k, v in d},
    "tuple": lambda d: tuple(decode_value(x) for x in d),
    "set": lambda d: {decode_value(x) for x in d},
    "frozenset": lambda d: frozenset(decode_value(x) for x in d),
    "uuid": UUID,
    "datetime": lambda d: _decode_clock(d, datetime.fromisoformat),
    "date": date.fromisoformat,
    "time": lambda d: _decode_clock(d, time.fromisoformat),
    "timedelta": lambda d: timedelta(*d),
    "timezone": lambda d: _decode_tz(*d),
    "zoneinfo": ZoneInfo,
    "decimal": Decimal,
    "bytes": base64.b64decode,
    "float": float,
    "int": int,
    "enum": _decode_enum,
    "dataclass": _decode_dataclass,
}


def encode_value(obj: Any) -> Any:
    """Converts obj to plain JSON data that orjson writes without loss."""
    t = type(obj)
    if t is str or t is bool or obj is None:
        return obj
    if t is int:
        return obj if _INT_MIN <= obj <= _INT_MAX else _tagged("int", str(obj))
    if t is float:
        # repr() gives "nan", "inf" or "-inf", all of which float() reads back.
        return obj if math.isfinite(obj) else _tagged("float", repr(obj))
    if t is dict:
        if TAG not in obj and all(type(k) is str for k in obj):
            return {k: encode_value(v) for k, v in obj.items()}
        return _tagged("dict", _pairs(obj))
    if t is list:
        return [encode_value(v) for v in obj]
    if t in _ENCODERS:
        name, encode = _ENCODERS[t]
        return _tagged(name, encode(obj))
    if isinstance(obj, Enum):
        return _tagged("enum", _encode_enum(obj))
    if dataclasses.is_dataclass(t):
        return _tagged("dataclass", _encode_dataclass(obj))
    raise TypeError(f"Cannot encode object of type {t.__module__}.{t.__qualname__}")


def decode_value(data: Any) -> Any:
    """Rebuilds the Python value from JSON data made by encode_value()."""
    t = type(data)
    if t is list:
        return [decode_value(v) for v in data]
    if t is dict:
        if TAG in data:
            name = data[TAG]
            try:
                decode = _DECODERS[name]
            except (KeyError, TypeError):
                raise ValueError(f"Unknown transcoder tag {name!r}") from None
            return decode(data[DATA])
        return {k: decode_value(v) for k, v in data.items()}
    return data


class OrjsonTranscoder(Transcoder):
    """Transcoder for eventsourcing's Mapper that round-trips types exactly."""

    def encode(self, obj: Any) -> bytes:
        # Copied to bytes of its own length: orjson gives each text in a buffer of
        # at least 4 KB, and an import holds every event's state until it stores
        # them together (some 800 MB for 200,000 events of 500 bytes).
        return memoryview(orjson.dumps(encode_value(obj))).tobytes()

    def decode(self, data: bytes) -> Any:
        loaded = orjson.loads(data)
        # Most stored events hold only plain JSON, so skip the walk when no
        # tag can be present (a tag key is always written as this exact text).
        if _TAG_BYTES not in data:
            return loaded
        return decode_value(loaded)
