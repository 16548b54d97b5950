"""The real server (`fourpi serve`) asked with methods it does not take: one the server's HTTP parser does not know (FOO, or a lower-case get) is answered as one it knows but the address does not take (PUT), in the API's JSON at the API's addresses and with the web app's page elsewhere; a method that is not a method at all is refused with 400."""

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_slow_clients import connected, served, slowly_answered

__all__ = ["served"]  # the module's server, shared with the slow clients' tests

TOKEN_CHARACTERS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
"""What a method may be made of (RFC 9110's token)."""
ADDRESSES = ["/graphql", "/sign-in", "/", "/healthz", "/no/such/page"]


def asked(port: int, method: bytes, path: str) -> tuple[str, dict[str, str], bytes]:
    with connected(port) as sock:
        sock.sendall(
            method
            + f" {path} HTTP/1.1\r\nHost: fourpi\r\n".encode()
            + b"Accept: text/html\r\nConnection: close\r\n\r\n"
        )
        return slowly_answered(sock)


def test_an_unknown_method_is_answered_by_the_api_in_json(
    served: tuple[int, str],
) -> None:
    """FOO /graphql got the server's own 400 in plain text ('Invalid HTTP request
    received.'), where PUT got the API's 405 in JSON naming the methods it takes."""
    port, _ = served
    status, headers, body = asked(port, b"FOO", "/graphql")
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "GET, HEAD, POST"
    assert headers["content-type"].startswith("application/json")
    (error,) = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_unknown_method_is_answered_by_the_web_with_its_page(
    served: tuple[int, str],
) -> None:
    port, _ = served
    status, headers, body = asked(port, b"get", "/sign-in")
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "GET, HEAD, POST"
    assert headers["content-type"].startswith("text/html")
    assert "<h1>" in body.decode()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.text(TOKEN_CHARACTERS, min_size=1, max_size=12).filter(
        lambda method: method not in ("CONNECT", "PRI")
    ),
    path=st.sampled_from(ADDRESSES),
)
def test_any_method_is_answered_as_put_is(
    served: tuple[int, str], method: str, path: str
) -> None:
    """Whatever the method (one the parser knows, or not), the answer is the
    app's, as for a PUT: the same status, kind of body and Allow."""
    port, _ = served
    if method in ("GET", "HEAD", "POST", "PUT"):
        return
    status, headers, _ = asked(port, method.encode(), path)
    expected_status, expected, _ = asked(port, b"PUT", path)
    assert status == expected_status, method
    for name in ("content-type", "allow", "location"):
        assert headers.get(name) == expected.get(name), (method, name)


def test_a_method_with_characters_no_method_has_is_refused_with_400(
    served: tuple[int, str],
) -> None:
    """A request line that is not HTTP (a method with '@' in it) never reaches the
    app: nothing says which method was meant. The server refuses it, in plain
    text, and closes."""
    port, _ = served
    status, headers, body = asked(port, b"G@T", "/graphql")
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert body == b"Invalid HTTP request received."
