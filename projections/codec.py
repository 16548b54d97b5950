"""How fact values are stored in view columns and read back as Python values, the same on both backends."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

SQL_TYPES = {"int": "BIGINT", "bool": "INTEGER"}
"""Every other column type is stored as text."""


def to_column(column_type: str, value: Any) -> Any:
    if value is None:
        return None
    if column_type in ("int", "text"):
        return value
    if column_type == "bool":
        return int(value)
    if column_type == "list":
        return orjson.dumps(list(value)).decode()
    if column_type in ("date", "datetime"):
        return value.isoformat()
    return str(value)


def _bool_column(value: Any) -> Any:
    return None if value is None else int(value)


def _list_column(value: Any) -> Any:
    return None if value is None else orjson.dumps(list(value)).decode()


def _iso_column(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _text_column(value: Any) -> Any:
    return None if value is None else str(value)


ENCODERS: dict[str, Callable[[Any], Any] | None] = {
    "int": None,
    "text": None,
    "bool": _bool_column,
    "list": _list_column,
    "date": _iso_column,
    "datetime": _iso_column,
    "decimal": _text_column,
}
"""to_column for each type, as one function (None: the value is stored as it is);
uuid columns are encoded by a UUIDTexts instead."""


class UUIDTexts(dict[int, str]):
    """Ids as column text, each formatted once: the same ids recur across the rows of
    a batch, and a UUID's int is far cheaper to look up than its text to format."""

    def text(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self[value.int]
        except KeyError:
            text = self[value.int] = str(value)
            return text
        except AttributeError:  # already text
            return str(value)


RowEncoder = Callable[
    [Any, int, int, dict[str, Any], Callable[[Any], Any]], tuple[Any, ...]
]
"""(organisation id as text, position, seq, fact row, UUIDTexts.text) -> the columns."""


def row_encoder(columns: tuple[tuple[str, str], ...]) -> RowEncoder:
    """A table's to_column for a whole row, as straight-line code: what
    tuple(to_column(kind, row.get(name)) for name, kind in columns) gives, after the
    organisation id, position and seq, at a fraction of the cost per value."""
    helpers: dict[str, Any] = {}
    values = []
    for index, (name, kind) in enumerate(columns):
        got = f"get({name!r})"
        if kind == "uuid":
            values.append(f"uuid_text({got})")
        elif (encode := ENCODERS[kind]) is None:
            values.append(got)
        else:
            helpers[f"encode_{index}"] = encode
            values.append(f"encode_{index}({got})")
    source = (
        "def encode(organisation_id, position, seq, row, uuid_text):\n"
        "    get = row.get\n"
        f"    return (organisation_id, position, seq, {', '.join(values)})\n"
    )
    namespace = dict(helpers)
    exec(compile(source, f"<row encoder {columns!r}>", "exec"), namespace)
    encoder: RowEncoder = namespace["encode"]
    return encoder


def list_from_column(stored: str) -> tuple[str, ...]:
    return tuple(orjson.loads(stored))


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "text": str,
    "bool": bool,
    "uuid": UUID,
    "date": date.fromisoformat,
    "datetime": datetime.fromisoformat,
    "decimal": Decimal,
    "list": list_from_column,
}
"""How a non-null stored value of each column type becomes a Python value."""


def from_column(column_type: str, stored: Any) -> Any:
    if stored is None:
        return None
    if column_type in ("int", "text"):
        return stored
    if column_type == "bool":
        return bool(stored)
    if column_type == "uuid":
        return UUID(stored)
    if column_type == "date":
        return date.fromisoformat(stored)
    if column_type == "datetime":
        return datetime.fromisoformat(stored)
    if column_type == "decimal":
        return Decimal(stored)
    if column_type == "list":
        return tuple(orjson.loads(stored))
    raise ValueError(f"unknown column type {column_type!r}")
