"""The GraphiQL page at /graphql: strawberry's own, told to keep no token in the browser's storage, opened with an example per role, and saying that its scripts come from a CDN."""

from functools import cache

from strawberry.http.ides import get_graphql_ide_html

NOTICE = """<!--
  fourpi's GraphiQL. The page itself is strawberry-graphql's; the browser loads its
  scripts and styles (React, GraphiQL, its explorer plugin, js-cookie) from the
  unpkg.com CDN, so it needs the internet and trusts that CDN (each script is pinned
  by a subresource-integrity hash). fourpi serves and keeps none of them. Nothing
  else of the API needs them: any GraphQL client can POST to this address.

  Send your token in the Headers pane (bottom left), as
    {"Authorization": "Bearer <the secret from `fourpi tokens create`>"}
  GraphiQL keeps no header in the browser's storage: reload, and it is gone.
-->
"""

EXAMPLES = """# fourpi: the 4PI record of involvement, over GraphQL.
#
# 1. Open the Headers pane below and give your token:
#      {"Authorization": "Bearer <the secret from: fourpi tokens create>"}
#    It is not kept: reload the page and it is gone.
# 2. Run one of the operations here (the play button asks which). Each is
#    marked with the roles that may run it. Ctrl-Space completes a field.

# Every role: who the token is.
query WhoAmI {
  me { role organisationId personalData }
}

# Evaluator, manager, auditor: the second 4PI impact question, what
# differences involvement made, traced to the contributions behind them.
query Differences {
  differences { position contributions untracedChanges }
}

# Manager: record what happens (a retry with the same idempotencyKey
# records nothing new).
mutation LaunchInitiative {
  launchInitiative(input: {
    name: "Peer support review", level: OPERATIONAL,
    involvementKind: PARTICIPATION, methods: [FOCUS_GROUP, SURVEY],
    purpose: "Review the peer support offer with the people who use it.",
    limitsOfInfluence: "Staffing levels are set by the trust.",
    startedOn: "2024-01-08", idempotencyKey: "peer-support-review"
  }) { id logPosition }
}

# Auditor: prove the log whole, and read its first events.
query Integrity {
  integrity { intact events head }
  eventLog(first: 5) {
    edges { node { position type recordedBy recordedAt redacted } }
  }
}

# Admin: issue an evaluator's token (its secret is shown only once).
mutation IssueEvaluatorToken {
  issueToken(input: {role: EVALUATOR, label: "evaluator"}) { tokenId token role }
}
"""

HEADERS_TEMPLATE = '{"Authorization": "Bearer <token>"}'

REPLACEMENTS = (
    ("<!doctype html>\n", "<!doctype html>\n" + NOTICE),
    ("<title>Strawberry GraphiQL</title>", "<title>fourpi GraphiQL</title>"),
    ("shouldPersistHeaders: true", "shouldPersistHeaders: false"),
    ("parameters.q || EXAMPLE_QUERY", "parameters.q || FOURPI_EXAMPLES"),
    (
        "React.useState(parameters.headers)",
        f"React.useState(parameters.headers || {HEADERS_TEMPLATE!r})",
    ),
    (
        "      const EXAMPLE_QUERY = `",
        "      const FOURPI_EXAMPLES = `"
        + EXAMPLES
        + "`;\n      const EXAMPLE_QUERY = `",
    ),
)


class UnexpectedGraphiQLPage(RuntimeError):
    """The installed strawberry's page is not the one these changes were made for."""


@cache
def graphiql_page() -> str:
    """The page, changed as the module's first line says; refuses to serve it unchanged."""
    page = get_graphql_ide_html("graphiql")
    for old, new in REPLACEMENTS:
        if old not in page:
            raise UnexpectedGraphiQLPage(
                f"strawberry's GraphiQL page has no {old!r}: update fourpi.operations.graphiql"
            )
        page = page.replace(old, new, 1)
    return page
