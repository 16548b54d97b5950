"""The API's mutation inputs drawn from the one description of each use case (fourpi.domain.use_cases): an input class spells its fields' Python types (so mypy and strawberry see them) and defaults; its description and each field's description come from the use case, and a class whose fields are not the use case's is refused at import."""

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

from fourpi.domain.use_cases import UseCase

T = TypeVar("T")

NOT_DRAWN = frozenset({"idempotency_key"})
"""Fields every write has, described where they are made."""


def arguments_of(use_case: UseCase) -> dict[str, str]:
    """Each keyword argument of the use case, and its description: a field's hint,
    or, for a mapping argument (monitoring.gender), the use case's own hint."""
    described: dict[str, str] = {}
    for field in use_case.fields:
        if "." in field.name:
            described.setdefault(field.argument, use_case.hint)
        else:
            described[field.name] = field.hint
    return described


def drawn_from(use_case: UseCase) -> Callable[[type[T]], type[T]]:
    """Describe an input class (before strawberry.input reads it) from its use case.

    The class names exactly the use case's arguments (and idempotency_key); a field
    is written `name: Type` when required, `name: Type = default` when not, or
    `strawberry.field(default_factory=...)` without a description."""

    def draw(cls: type[T]) -> type[T]:
        described = arguments_of(use_case)
        names = [n for n in cls.__annotations__ if n not in NOT_DRAWN]
        if sorted(names) != sorted(described):
            raise TypeError(
                f"{cls.__name__} must have the fields of {use_case.name}: "
                f"{sorted(described)}, not {sorted(names)}"
            )
        for name in names:
            given = cls.__dict__.get(name, dataclasses.MISSING)
            if isinstance(given, StrawberryField):
                if given.description:
                    raise TypeError(
                        f"{cls.__name__}.{name}: its description is drawn from "
                        f"{use_case.name}; do not write another"
                    )
                given.description = described[name]
                continue
            field: Any = (
                strawberry.field(description=described[name])
                if given is dataclasses.MISSING
                else strawberry.field(default=given, description=described[name])
            )
            setattr(cls, name, field)
        return cls

    return draw


def input_description(use_case: UseCase) -> str:
    return f"{use_case.label}: {use_case.hint}"
