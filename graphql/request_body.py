"""Reading a GraphQL request's JSON strictly: anything malformed is the client's mistake, refused with 400 and the part it concerns, never a 500."""

import json
import re
from typing import Any

from cross_web import HTTPException

MAX_NESTING = 64
"""How deeply the JSON of a request may nest (a real input nests a few levels)."""
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""Where a lone surrogate could come from: JSON text holds none of its own."""


class BadRequest(HTTPException):
    """A request refused before any GraphQL ran, naming the part of it at fault."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(400, reason)
        self.field = field


def decoded(body: str | bytes, part: str = "body", field: str | None = None) -> Any:
    """The JSON value of a request body (or of a query parameter), or BadRequest
    naming `part` and, as its field, `field` (else `part`).

    Refused: text that is not UTF-8, malformed JSON, NaN and Infinity, an object that gives a key twice (which of the two would count is a
    guess), and nesting deeper than MAX_NESTING.
    """
    field = field or part
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRequest(
                f"the request {part} is not valid UTF-8 (byte {error.start})", field
            ) from None
    else:
        text = body
    try:
        value = json.loads(
            text,
            object_pairs_hook=_one_value_per_key,
            parse_constant=_no_constant,
        )
    except BadRequest:
        raise
    except RecursionError:
        raise BadRequest(f"the request {part} nests too deeply", field) from None
    except ValueError as error:
        raise BadRequest(
            f"the request {part} is not valid JSON: {error}", field
        ) from None
    _check_nesting(value, part, field)
    if SURROGATE_ESCAPE.search(text):
        found = text_problem(value, "")
        if found:
            raise BadRequest(*found)
    return value


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise BadRequest(f"the request gives the key {twice!r} twice in one object")
    return value


def _no_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number")


def _check_nesting(value: Any, part: str, field: str) -> None:
    level = [value]
    for _ in range(MAX_NESTING + 1):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return
    raise BadRequest(
        f"the request {part} nests more than {MAX_NESTING} levels deep", field
    )


def text_problem(value: Any, path: str) -> tuple[str, str] | None:
    """The first string under value that no store can keep (a lone surrogate, from a
    \\uD800-style escape, is not a character), as (message, field), or None. The
    field reads as the client wrote it: a variable's name first (input.title)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            field = path.removeprefix(".").removeprefix("variables.") or "body"
            return f"{field}: must be text (it holds a lone surrogate)", field
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = text_problem(key, path) or text_problem(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = text_problem(item, f"{path}.{index}")
            if found:
                return found
    return None


def request_parts(
    data: Any,
) -> tuple[str | None, dict[str, Any] | None, str | None, dict[str, Any] | None]:
    """query, variables, operationName and extensions of one request, each of the
    type GraphQL over HTTP requires, or BadRequest naming the one that is not."""
    if not isinstance(data, dict):
        raise BadRequest(
            "the request body must be a JSON object with a 'query' (batches of "
            "requests are not accepted)",
            "body",
        )
    query = data.get("query")
    variables = data.get("variables")
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    for name, value, kind in (
        ("query", query, str),
        ("variables", variables, dict),
        ("operationName", operation_name, str),
        ("extensions", extensions, dict),
    ):
        if value is not None and not isinstance(value, kind):
            wanted = "a string" if kind is str else "an object"
            raise BadRequest(f"{name}: must be {wanted} or null", name)
    return query, variables, operation_name, extensions
