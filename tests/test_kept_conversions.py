"""The answers converted for the API are kept to be shared, but only while the ways of showing counts of people they depend on are among the last DISCLOSURES_KEPT: each of those holds a whole suppression pattern."""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any, cast
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourpi.graphql import answer_queries
from fourpi.graphql.answer_queries import DISCLOSURES_KEPT, once_per_report
from fourpi.memo import Memo
from fourpi.projections.answers import Slice
from fourpi.projections.disclosure import Disclosure


@dataclass(frozen=True)
class Report:
    """What `once_per_report` reads of a report."""

    slice: Slice
    moment: date | None
    position: int
    converted: object


@dataclass(frozen=True)
class Converted:
    position: int
    hidden: frozenset[tuple[str, int]]


def converted(report: Report, disclosure: Disclosure) -> Converted:
    return Converted(report.position, disclosure.hidden)


def kept_patterns() -> set[frozenset[tuple[str, int]]]:
    return {cast(Any, key)[4].hidden for key in answer_queries._CONVERTED.entries}


@settings(max_examples=30, deadline=None)
@given(asked=st.lists(st.integers(0, DISCLOSURES_KEPT * 2), min_size=1, max_size=120))
def test_conversions_keep_only_the_patterns_lately_used(asked: list[int]) -> None:
    """Whatever order patterns are asked for in, the conversions kept hold at most
    DISCLOSURES_KEPT of them, the ones lately used among them, and a conversion
    shared is the one made for that very pattern."""
    report = Report(Slice(organisation_id=uuid4()), None, 1, object())
    with pytest.MonkeyPatch.context() as patched:
        # Shared by the process's other tests: these start from none kept.
        patched.setattr(answer_queries, "_CONVERTED", Memo(1024))
        patched.setattr(answer_queries, "_DISCLOSURES", OrderedDict())
        for number in asked:
            disclosure = Disclosure(exact=False, hidden=frozenset({("cell", number)}))
            result = once_per_report(converted, report, disclosure)
            assert result.hidden == disclosure.hidden
        kept = kept_patterns()
    assert len(kept) <= DISCLOSURES_KEPT
    lately: list[int] = []
    for number in reversed(asked):
        if number not in lately:
            lately.append(number)
    assert kept == {frozenset({("cell", n)}) for n in lately[:DISCLOSURES_KEPT]}
