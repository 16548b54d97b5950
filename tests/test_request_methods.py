"""The real server (`fourpi serve`) asked with methods it does not take: one the server's HTTP parser knows but the address does not take (PUT) is answered by the app, in the API's JSON at the API's addresses and with the web app's page elsewhere; one the parser does not know is refused by the server itself with 400, and the connection closed, never a hang or a server error."""

import json

import pytest

from tests.test_slow_clients import connected, served, slowly_answered

__all__ = ["served"]  # the module's server, shared with the slow clients' tests


def asked(port: int, method: bytes, path: str) -> tuple[str, dict[str, str], bytes]:
    with connected(port) as sock:
        sock.sendall(
            method
            + f" {path} HTTP/1.1\r\nHost: fourpi\r\n".encode()
            + b"Accept: text/html\r\nConnection: close\r\n\r\n"
        )
        return slowly_answered(sock)


def test_a_method_the_api_does_not_take_is_answered_in_json(
    served: tuple[int, str],
) -> None:
    port, _ = served
    status, headers, body = asked(port, b"PUT", "/graphql")
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "GET, HEAD, POST"
    assert headers["content-type"].startswith("application/json")
    (error,) = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("method", [b"FOO", b"get", b"G@T"])
def test_a_method_the_server_does_not_know_is_refused_with_400(
    served: tuple[int, str], method: bytes
) -> None:
    """A method the server's HTTP parser does not know (FOO, a lower-case get) or
    a request line that is not HTTP (G@T) never reaches the app: the server
    refuses it, in plain text (a line, as its other refusals before the app),
    and closes the connection."""
    port, _ = served
    status, headers, body = asked(port, method, "/graphql")
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == b"Invalid HTTP request received.\n"
