"""What a browser opening /graphql gets: by default a plain page of fourpi's own saying how to use the API (it loads nothing); with FOURPI_GRAPHIQL=on, GraphiQL, strawberry's page, told to keep no token in the browser's storage, opened with an example per role, and saying that its scripts come from a CDN."""

import base64
import hashlib
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


API_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fourpi's GraphQL API</title>
<style>STYLE</style>
</head>
<body>
<main>
<h1>fourpi's GraphQL API</h1>
<p>This address is for programs and scripts. People record involvement and read
the answers in the web app: <a href="/">open the web app</a>.</p>
<h2>Sending a request</h2>
<ul>
<li>Send a query or a mutation as a POST to this address, with the header
<code>Content-Type: application/json</code> and a body such as
<code>{"query": "{ me { role organisationId } }"}</code>.</li>
<li>Or send a query (never a mutation) as a GET, in the <code>query</code>
parameter.</li>
<li>Give your token in the header
<code>Authorization: Bearer &lt;token&gt;</code>.</li>
</ul>
<p>An administrator issues tokens with <code>fourpi tokens create</code>.
<code>fourpi schema</code> prints every query and mutation.</p>
<h2>GraphiQL</h2>
<p>GraphiQL, a page for trying requests in a browser, is turned off on this
server. Its scripts come from the unpkg.com content delivery network, so the people
who run the server decide whether to turn it on
(<code>FOURPI_GRAPHIQL=on</code>).</p>
</main>
</body>
</html>
"""
"""The page a browser gets at /graphql with GraphiQL off: no script, no image and no
stylesheet to fetch, so it loads nothing, here or from elsewhere."""

API_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:40em;"
    "margin:1em auto;padding:0 1em}code{overflow-wrap:anywhere}"
    "a:focus{outline:3px solid #0b0c0c;outline-offset:2px}"
)
"""Its one inline style, which the API's content security policy allows by its hash
(`API_STYLE_SOURCE`): readable lines, long code wrapped at 320 px, and a focus ring
a keyboard user can see."""

API_STYLE_SOURCE = (
    "'sha256-"
    + base64.b64encode(hashlib.sha256(API_STYLE.encode()).digest()).decode()
    + "'"
)


def api_page() -> str:
    return API_PAGE.replace("STYLE", API_STYLE, 1)


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
