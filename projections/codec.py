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
