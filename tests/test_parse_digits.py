"""A number given as text (a log position, a cursor's, a cycle's) is read by one rule everywhere: ASCII digits alone, not too many of them; anything else is refused in the words of the place that took it."""

import base64
import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fourpi.domain.record import MOST_DIGITS, parse_digits
from fourpi.graphql.audit_queries import CURSOR_PREFIX, position_after
from fourpi.web.record_choices import Choices
from fourpi.workbook.cells import CellError
from graphql import GraphQLError

ASCII_DIGITS = st.text(alphabet=string.digits, max_size=MOST_DIGITS + 20)
NOT_ASCII_DIGITS = st.characters(
    categories=["Nd", "No"], exclude_characters="0123456789"
)
"""'٣', '²', '①' and the like: str.isdigit takes most of them, int() some."""


def odd_among(digits: str, odd: str, at: int) -> str:
    at = min(at, len(digits))
    return digits[:at] + odd + digits[at:]


@given(
    st.one_of(
        st.text(),
        ASCII_DIGITS,
        st.text(alphabet=string.digits, min_size=4_290, max_size=5_000),
        st.builds(
            odd_among,
            ASCII_DIGITS,
            NOT_ASCII_DIGITS | st.sampled_from([" ", "+", "-", "_", "\n", "."]),
            st.integers(min_value=0, max_value=MOST_DIGITS),
        ),
    )
)
@example("9" * MOST_DIGITS)
@example("9" * (MOST_DIGITS + 1))
@example("9" * 5_000)
@example("²")
@example("\u0663")
@example("3\n")
def test_only_ascii_digits_not_too_many_are_a_number(text: str) -> None:
    ascii_digits = 0 < len(text) <= MOST_DIGITS and all(
        c in string.digits for c in text
    )
    assert parse_digits(text) == (int(text) if ascii_digits else None)


@pytest.mark.parametrize("position", ["\u0663", " 3", "+3", "3_0", "9" * 5_000])
def test_a_cursor_holds_a_position_in_ascii_digits_alone(position: str) -> None:
    """int() took '٣' and ' 3' as position 3."""
    cursor = base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{position}".encode()).decode()
    with pytest.raises(GraphQLError, match="after: not a cursor this API gave out"):
        position_after(cursor)
    assert position_after(base64.urlsafe_b64encode(b"position:3").decode()) == 3


@pytest.mark.parametrize("number", ["²", "\u0663", "9" * 5_000])
def test_a_cycle_chosen_in_a_form_is_numbered_in_ascii_digits_alone(
    number: str,
) -> None:
    """'²' passed str.isdigit and failed in int() as a server error; '٣' was cycle 3."""
    with pytest.raises(CellError, match="choose a cycle from the list"):
        Choices.cycle_number(f"initiative:{number}")
    assert Choices.cycle_number("initiative:3") == 3
