"""The API's kept documents (fourpi.graphql.schema.KnownDocuments): a document's validation, kept by the document's identity, is only ever that document's own."""

import gc
import weakref

from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.schema.schema import validate_document

from fourpi.graphql.schema import KnownDocuments, build_schema
from graphql import DocumentNode, parse, specified_rules

SCHEMA = build_schema()._schema
RULES = tuple(specified_rules)
TEXTS = (
    "{ me { role } }",
    "{ me { role tokenId } }",
    "{ me { nothing } }",
    "{ nothing }",
    "query($a: Int) { me { role } }",
    "mutation { registerParticipant { id } }",
    "{ organisation { name } }",
)
"""Valid and invalid alike, each invalid one for its own reason."""


def formatted(errors: list) -> list:
    return [error.formatted for error in errors]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(TEXTS), st.sampled_from(["again", "kept", "dropped"])
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=1, max_value=4),
)
@settings(max_examples=60, deadline=None)
def test_a_document_is_answered_with_its_own_validation_only(
    asked: list[tuple[str, str]], capacity: int
) -> None:
    """Whatever documents are asked, in whatever order, fresh or asked before, and
    whatever falls out of the memo, each gets the errors validation gives it; a
    document the caller let go of (whose id another could take) as well."""
    documents = KnownDocuments(capacity)
    seen: dict[str, DocumentNode] = {}
    for text, how in asked:
        document = seen.get(text) if how == "again" else None
        if document is None:
            document = parse(text)
        if how == "kept":
            seen[text] = document
        assert formatted(documents.errors(SCHEMA, document, RULES)) == formatted(
            validate_document(SCHEMA, document, RULES)
        )
        del document


def test_the_same_text_parses_to_the_same_document_while_kept() -> None:
    documents = KnownDocuments(2)
    first = documents.parsed("{ me { role } }", max_tokens=100)
    assert documents.parsed("{ me { role } }", max_tokens=100) is first
    assert documents.parsed("{ nothing }", max_tokens=100) is not first


def test_a_kept_validation_holds_its_document_until_it_is_pushed_out() -> None:
    """Held, no other document can take its id while its validation is kept; let go
    once it is pushed out, so the memo holds no more than it keeps."""
    documents = KnownDocuments(1)
    document = parse(TEXTS[0])
    held = weakref.ref(document)
    documents.errors(SCHEMA, document, RULES)
    del document
    gc.collect()
    assert held() is not None
    documents.errors(SCHEMA, parse(TEXTS[1]), RULES)
    gc.collect()
    assert held() is None
