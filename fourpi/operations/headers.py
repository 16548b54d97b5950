"""The security headers every response carries, the web app's pages and the API's alike: a content security policy, no framing, no sniffing, the referrer kept to this site, and nothing but the stylesheets kept by a browser or a proxy."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVERY_RESPONSE = (
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
)
"""A one-time or personal link in a page's address never leaves the site as a
Referer, and no other site frames a page or has a response read as another type."""


class SecurityHeaders:
    """The headers of EVERY_RESPONSE, the given content security policy, and
    `Cache-Control: no-store` but for /static/ (pages and answers show personal
    data), each added only where the app inside did not set it: the web app sets
    its stricter policy itself, and the whole server wraps both apps in the API's."""

    def __init__(self, app: ASGIApp, content_security_policy: str) -> None:
        self.app = app
        self.for_assets = (
            *EVERY_RESPONSE,
            (b"content-security-policy", content_security_policy.encode()),
        )
        """The headers a stylesheet gets; every other response no-store too."""
        self.for_others = (*self.for_assets, (b"cache-control", b"no-store"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asset = str(scope.get("path", "")).startswith("/static/")
        wanted = self.for_assets if asset else self.for_others

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                given = {name.lower() for name, _ in headers}
                headers += [header for header in wanted if header[0] not in given]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
