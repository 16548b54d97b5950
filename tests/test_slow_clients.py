"""The real server (`fourpi serve`) under clients that are slow on purpose: a request's headers or body that trickle, or never come, are refused with 408 once their time is up and the connection closed; headers without end are refused with 431; every other client is answered meanwhile."""

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from fourpi.bootstrap import open_records
from fourpi.domain.access import Role
from fourpi.operations.connections import LARGEST_PIPELINE
from graphql import get_introspection_query
from tests.test_serve import FOURPI, free_port, stop, wait_until_up
from tests.web import organisation_with_a_chain

REQUEST_WAIT_SECONDS = 2
"""FOURPI_REQUEST_WAIT_SECONDS for these servers: short, so a test is soon over."""
SAFETY_SECONDS = 30.0
"""The most a socket waits for anything: a test that waits this long has failed."""
TYPENAME = b'{"query": "{ __typename }"}'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """A `fourpi serve` on a SQLite store with one organisation: its port and an
    evaluator's token."""
    folder = tmp_path_factory.mktemp("slow")
    url = f"sqlite:///{folder}/slow.sqlite3"
    records = open_records(url)
    mind = organisation_with_a_chain(records, "Mind").organisation_id
    _, token = records.issue_token(
        organisation_id=mind, role=Role.EVALUATOR, actor="test"
    )
    port = free_port()
    process = subprocess.Popen(
        [FOURPI, "serve", "--database", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FOURPI_REQUEST_WAIT_SECONDS": str(REQUEST_WAIT_SECONDS)},
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        yield port, token
    finally:
        stop(process)


def connected(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=SAFETY_SECONDS)


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def head_and_body(answer: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }
    return status, headers, body


def typename(port: int, token: str) -> str:
    """Another client's `{ __typename }`: the status line it is answered with."""
    with connected(port) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: fourpi\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Content-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(TYPENAME)}\r\n\r\n".encode()
            + TYPENAME
        )
        status, _, body = head_and_body(answer_of(sock))
        assert json.loads(body) == {"data": {"__typename": "Query"}}
        return status


@contextmanager
def trickling(
    port: int, head: bytes, first: bytes, drip: bytes = b" "
) -> Iterator[socket.socket]:
    """A client that sends the head of a request and the start of its body, then
    `drip` (a byte of the body) every tenth of a second (never the whole of it)
    until the server answers or closes the connection."""
    sock = connected(port)
    sock.sendall(head + first)
    answered = threading.Event()

    def trickle() -> None:
        while not answered.wait(0.1):
            try:
                sock.send(drip)
            except OSError:
                return

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        yield sock
    finally:
        answered.set()
        trickler.join()
        sock.close()


def slowly_answered(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """What the slow client is answered with, once the server has closed."""
    return head_and_body(slowly_answered_all(sock))


def slowly_answered_all(sock: socket.socket) -> bytes:
    sock.settimeout(SAFETY_SECONDS)
    try:
        return answer_of(sock)
    except TimeoutError:
        raise AssertionError(
            f"no answer in {SAFETY_SECONDS} s: the slow client was waited for"
        ) from None


def test_a_trickled_api_body_is_refused_with_408_and_others_are_answered(
    served: tuple[int, str],
) -> None:
    """A client that sent the headers of a POST to /graphql and then a byte of
    its body now and then held a connection and a request handler for as long as
    it liked; 2,000 such clients, each a few bytes short of a 100,000-byte body,
    held 535 MB of the server's memory until they left. Now the body must arrive
    within FOURPI_REQUEST_WAIT_SECONDS (and a second more for each 10,000 bytes it
    arrive): past that it is refused with 408 in the API's JSON, and closed."""
    port, token = served
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: fourpi\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    )
    with trickling(port, head, b'{"query": ') as slow:
        assert typename(port, token) == "HTTP/1.1 200 OK"
        status, headers, body = slowly_answered(slow)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    (error,) = json.loads(body)["errors"]
    assert error["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert error["message"].startswith(
        "the request body did not arrive in time: it must begin within 2 seconds "
        "and then come at 10,000 bytes a second or more"
    )


def test_a_web_form_whose_body_never_comes_is_refused_with_a_page(
    served: tuple[int, str],
) -> None:
    """A sign-in form posted with its headers only: the web app's own page saying
    what happened, not the API's JSON or the server's plain text."""
    port, _ = served
    with connected(port) as slow:
        slow.sendall(
            b"POST /sign-in HTTP/1.1\r\nHost: fourpi\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 60\r\n\r\nemail="
        )
        status, headers, body = slowly_answered(slow)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "<h1>What you sent took too long to arrive</h1>" in page
    assert "Nothing was recorded" in page


def test_headers_sent_a_line_at_a_time_are_refused_with_408(
    served: tuple[int, str],
) -> None:
    """A client that sent a header line now and then (slowloris) held its
    connection for as long as it liked: uvicorn has no bound on how long a
    request's head may take. Now it has FOURPI_REQUEST_WAIT_SECONDS from the
    connection's start."""
    port, token = served
    head = b"GET /healthz HTTP/1.1\r\nHost: fourpi\r\n"
    with trickling(port, head, b"", drip=b"X-Slowly: yes\r\n") as slow:
        assert typename(port, token) == "HTTP/1.1 200 OK"
        status, headers, body = slowly_answered(slow)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert body == b"the request line and headers did not arrive within 2 seconds\n"


def refused_while_sending(port: int, head: bytes, drip: bytes, gap: float) -> bytes:
    """What a client that sent `head` and then `drip` every `gap` seconds, too slowly
    to finish in time, is answered (read as it comes, while it goes on sending)."""
    with connected(port) as sock:
        sock.sendall(head)
        answered = threading.Event()

        def keep_sending() -> None:
            while not answered.is_set():
                try:
                    sock.send(drip)
                except OSError:
                    return
                time.sleep(gap)

        sender = threading.Thread(target=keep_sending, daemon=True)
        sender.start()
        try:
            return slowly_answered_all(sock)
        finally:
            answered.set()
            sender.join()


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: fourpi\r\nX-Slowly: ", id="head"),
        pytest.param(
            b"POST /graphql HTTP/1.1\r\nHost: fourpi\r\n"
            b"Content-Type: application/json\r\nContent-Length: 90000\r\n\r\n",
            id="body",
        ),
    ],
)
def test_a_408_is_read_by_clients_still_sending_when_it_comes(
    served: tuple[int, str], head: bytes
) -> None:
    """A connection refused and closed at once, while its client was still
    sending, was reset: the kernel resets a connection closed with bytes of the
    client's unread, and the client's system then reports the reset, not the end
    of the answer (a ConnectionResetError in CI for a trickled body; measured: 13
    of 20 clients sending a byte every 0.3 ms). The server now ends its sending
    side, reads and drops what still comes for a while, then closes."""
    port, _ = served
    with ThreadPoolExecutor(8) as clients:
        answers = list(
            clients.map(
                lambda _: refused_while_sending(port, head, b"a", 0.0003), range(8)
            )
        )
    for answer in answers:
        status, headers, _ = head_and_body(answer)
        assert status == "HTTP/1.1 408 Request Timeout"
        assert headers["connection"] == "close"


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/graphql", "application/json"), ("/sign-in", "text/html")],
)
def test_a_body_refused_as_too_large_holds_no_connection_as_it_comes(
    served: tuple[int, str], path: str, kind: str
) -> None:
    """A post declaring 10 MB was refused with 413 at once, and its connection then
    kept open for as long as the client went on sending (a byte a second held one
    12 s, and no end was near): what came was read as the rest of a body nobody
    wanted, under no time limit. Now the refusal says it closes the connection,
    and it does, whatever still comes."""
    port, _ = served
    head = (
        f"POST {path} HTTP/1.1\r\nHost: fourpi\r\n".encode()
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {10 * 1024 * 1024}\r\n\r\n".encode()
    )
    status, headers, _ = head_and_body(refused_while_sending(port, head, b"a", 0.2))
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert headers["connection"] == "close"
    assert headers["content-type"].startswith(kind)


def test_a_connection_that_asks_nothing_is_closed(served: tuple[int, str]) -> None:
    """Connections opened and left silent were held for ever (each an open file
    and a little memory, as many as the client liked); now each is closed,
    unanswered, once the time a request's head may take is over."""
    port, _ = served
    with connected(port) as silent:
        assert slowly_answered(silent) == ("", {}, b"")


def headers_without_end(port: int) -> tuple[str, dict[str, str], bytes]:
    """What a client sending 70 KB of header lines (and no end) is answered."""
    with connected(port) as greedy:
        greedy.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: fourpi\r\n"
            + (b"X-Filler: " + b"a" * 1000 + b"\r\n") * 70
        )
        return slowly_answered(greedy)


def test_headers_without_end_are_refused_with_431(served: tuple[int, str]) -> None:
    """One client sent 200 MB of header lines and the server kept every byte in
    memory (its RSS grew by 228 MB), then answered the request: uvicorn's
    httptools parser has no bound on a head's size. Now past 64 KB it is refused
    with 431 and the connection closed."""
    port, _ = served
    status, headers, body = headers_without_end(port)
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["connection"] == "close"
    assert body == b"the request line and headers are larger than 65,536 bytes\n"


def answers_in_turn(answers: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    """The answers one connection was sent, in order, each cut by its length."""
    read = []
    while answers:
        status, headers, rest = head_and_body(answers)
        length = int(headers["content-length"])
        read.append((status, headers, rest[:length]))
        answers = rest[length:]
    return read


@pytest.mark.parametrize(
    ("behind", "refusal"),
    [
        (b"GET /healthz HTTP/1.1\r\nX-Bad: \x01\r\n\r\n", "400 Bad Request"),
        (
            b"GET /healthz HTTP/1.1\r\n" + (b"X-Filler: " + b"a" * 1000 + b"\r\n") * 70,
            "431 Request Header Fields Too Large",
        ),
    ],
    ids=["malformed", "too large"],
)
def test_a_bad_request_pipelined_behind_good_ones_is_refused_after_their_answers(
    served: tuple[int, str], behind: bytes, refusal: str
) -> None:
    """Two requests sent at once and a malformed one behind them were answered by
    the 400 alone, written when the malformed one was read: the client took it
    for the first request's answer (of a mutation it had made, say), and the two
    answers never came. A head too large behind them closed the connection with
    no answer at all. Now the requests ahead are answered, then the refusal, and
    the connection is closed."""
    port, token = served
    ask = (
        b"POST /graphql HTTP/1.1\r\nHost: fourpi\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(TYPENAME)}\r\n\r\n".encode()
        + TYPENAME
    )
    with connected(port) as client:
        client.sendall(ask + ask + behind)
        answers = slowly_answered_all(client)
    (first, second, refused) = answers_in_turn(answers)
    for status, _, body in (first, second):
        assert status == "HTTP/1.1 200 OK"
        assert json.loads(body) == {"data": {"__typename": "Query"}}
    assert refused[0] == f"HTTP/1.1 {refusal}"
    assert refused[1]["connection"] == "close"


def test_a_pipeline_without_end_is_closed_at_its_bound(
    served: tuple[int, str],
) -> None:
    """Requests sent one after another without waiting for their answers (HTTP/1.1
    pipelining) were each parsed and queued at once, as many as had arrived, and
    the queue was topped up after every answer: 20 connections sending 100,000
    each took 100 MB of the server's memory and kept another client's request
    waiting 4.6 s. Past LARGEST_PIPELINE waiting on one connection, it is closed
    once those before are answered."""
    port, _ = served
    asked = 2 * LARGEST_PIPELINE
    with connected(port) as greedy:
        greedy.sendall(b"GET /healthz HTTP/1.1\r\nHost: fourpi\r\n\r\n" * asked)
        answers = slowly_answered_all(greedy)
    answered = answers.count(b"HTTP/1.1 200 OK\r\n")
    assert 0 < answered <= LARGEST_PIPELINE + 1
    assert answers.endswith(b'{"status":"ok"}')  # none cut short


def test_an_upload_that_stops_is_refused_though_it_declared_a_large_file(
    served: tuple[int, str],
) -> None:
    """The time a body had was set by the size it declared: a post to the
    workbook page declaring 10 MB had 17 minutes, whatever came, so a client
    could send a little and stop, holding its connection and what it sent.
    Now the time grows with what arrives (a second for each 10,000 bytes), not
    with what is promised: an upload that stops is refused soon after."""
    port, _ = served
    with connected(port) as stopped:
        stopped.sendall(
            b"POST /workbook HTTP/1.1\r\nHost: fourpi\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {10 * 1024 * 1024}\r\n\r\n".encode()
            + b"--x\r\n"
            + b"a" * 1000
        )
        status, headers, body = slowly_answered(stopped)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    assert "<h1>What you sent took too long to arrive</h1>" in body.decode()


INTROSPECTION = get_introspection_query(descriptions=True)
"""The standard introspection query: an answer of about 200 KB that any client may
ask for (the schema once a request)."""
TCP_ESTABLISHED = 1
"""tcp_info's state of a connection neither side has ended (Linux)."""


def still_open(sock: socket.socket) -> bool:
    """Whether the connection is as it was, with nothing heard from the server's
    end (its state from Linux's tcp_info, read without reading the socket)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == TCP_ESTABLISHED


def test_a_client_that_stops_reading_is_cut_off_and_others_are_answered(
    served: tuple[int, str],
) -> None:
    """A client that asked for large answers and never read them held the request
    handler that was sending them, and the answers' bytes, for as long as it kept
    its connection open (measured: 64 answers of 230 KB asked on one connection,
    2.8 MB of them waiting in the server's send buffer, a handler blocked 34 s
    until the client left, then a traceback in the log). Now a connection whose
    answer makes no progress for FOURPI_REQUEST_WAIT_SECONDS is reset, freeing
    the handler and the buffer."""
    port, token = served
    query = json.dumps({"query": INTROSPECTION}).encode()
    asked = 48  # 10 MB: more than the kernel's buffers hold (below LARGEST_PIPELINE)
    with socket.socket() as stopped:
        # A small window, so the answers wait in the server, not in this socket.
        stopped.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stopped.settimeout(SAFETY_SECONDS)
        stopped.connect(("127.0.0.1", port))
        stopped.sendall(
            (
                b"POST /graphql HTTP/1.1\r\nHost: fourpi\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(query)}\r\n\r\n".encode()
                + query
            )
            * asked
        )
        waited = 0
        while still_open(stopped):
            assert typename(port, token) == "HTTP/1.1 200 OK"
            waited += 1
            assert waited < SAFETY_SECONDS * 10, "the stopped client was waited for"
            threading.Event().wait(0.1)
        answers = b""
        try:
            while chunk := stopped.recv(65536):
                answers += chunk
        except ConnectionResetError:
            pass
    assert answers.count(b"HTTP/1.1 200 OK") < asked
    assert typename(port, token) == "HTTP/1.1 200 OK"
