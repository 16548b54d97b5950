"""The API's mutation inputs are drawn from the one description of each use case: each manager mutation's input has exactly its use case's fields, described in its words, and a class that strays is refused at import."""

import pytest
import strawberry

from fourpi.domain.use_cases import LOG_CONTRIBUTION, MANAGER_USE_CASES
from fourpi.graphql import mutations
from fourpi.graphql.drawn import arguments_of, drawn_from


def test_every_manager_input_is_described_by_its_use_case() -> None:
    for use_case in MANAGER_USE_CASES:
        name = "".join(w.capitalize() for w in use_case.name.split("_")) + "Input"
        definition = getattr(mutations, name).__strawberry_definition__
        assert use_case.hint in (definition.description or "")
        described = {
            f.python_name: f.description
            for f in definition.fields
            if f.python_name != "idempotency_key"
        }
        assert described == arguments_of(use_case), name


def test_an_input_that_strays_from_its_use_case_is_refused() -> None:
    with pytest.raises(TypeError, match="must have the fields of log_contribution"):

        @drawn_from(LOG_CONTRIBUTION)
        class Missing:
            summary: str

    with pytest.raises(TypeError, match="drawn from"):

        @drawn_from(LOG_CONTRIBUTION)
        class Redescribed:
            initiative_id: strawberry.ID
            contributor_ids: list[strawberry.ID]
            nature: str
            summary: str = strawberry.field(description="said twice")
            impact_areas: list[str]
            made_on: str
            meeting_id: strawberry.ID | None = None
