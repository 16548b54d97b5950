"""uvicorn's HTTP protocol with the bounds it lacks (it has no setting for any): how large a request's head (its request line and headers) may be, how long it may take to arrive, how many requests may wait behind the one being answered, and how long an answer may wait for its client to read it."""

import asyncio
import contextlib
import http
import socket
import struct
from functools import cache
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import (
    HttpToolsProtocol,
    RequestResponseCycle,
)

from fourpi.config import ApiLimits

LARGEST_HEAD_BYTES = 64 * 1024
"""The largest request head taken: a browser's is a few kilobytes, and nginx's
largest is 32 KB. Without a bound, one client sent 200 MB of headers and the
server held every byte of them in memory."""


LARGEST_PIPELINE = 64
"""The most requests one connection may have waiting behind the one being answered
(HTTP/1.1 pipelining, which browsers do not use). Without a bound, every request
that had arrived was parsed and queued at once, and the queue topped up after each
answer: 20 connections sending 100,000 each took 100 MB of memory and kept
another client waiting 4.6 s."""


LINGER_SECONDS = 2.0
"""How long a connection the server ends (after a refusal, or an answer saying
`Connection: close`) goes on being read, what arrives dropped, once its last answer
is sent. Closed at once with bytes of the client's unread, the kernel resets the
connection, and a client still sending (a header line now and then, the rest of a
body) could lose the answer before reading it."""


@cache
def head_wait_seconds() -> float:
    """FOURPI_REQUEST_WAIT_SECONDS, read once in each process."""
    return ApiLimits.from_environment().request_wait_seconds


class BoundedHttp(HttpToolsProtocol):
    """A request's head must arrive within FOURPI_REQUEST_WAIT_SECONDS of its
    connection opening (or, on a kept-alive one, of its first byte) and be at most
    LARGEST_HEAD_BYTES: a client that opened connections and sent nothing, or a
    header line now and then, held each of them for ever. Past the time, a
    connection that sent part of a head is answered 408 and one that sent nothing
    is closed, as uvicorn closes a kept-alive one left idle.

    An answer, too, must make progress: once the transport's buffer is full
    (uvicorn's flow control then holds the handler sending it until the client
    reads), the client must read some of it every FOURPI_REQUEST_WAIT_SECONDS, or
    the connection is reset. A client that asked for large answers and never read
    them held their handler and their bytes for as long as it stayed connected."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_head = True
        self.head_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.last_taken = False
        """The request just taken is the last this connection is answered."""
        self.ignoring = False
        """What comes after the last request taken is read and dropped."""
        self.answering: RequestResponseCycle | None = None
        """The request being answered (uvicorn's `cycle` is the last one read,
        which may be waiting behind it)."""
        self.ending = False
        """The last answer is sent: what still arrives is dropped until the close."""
        self.refusal: bytes | None = None
        """A refusal waiting for the answers due before it: what still arrives is
        dropped meanwhile."""
        self.write_timer: asyncio.TimerHandle | None = None
        self.unsent = 0
        """The bytes waiting in the transport when the write timer was set."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_timer = self.loop.call_later(head_wait_seconds(), self.head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_arrived()
        self.stop_write_timer()
        if self.answering is not None and not self.answering.response_complete:
            # uvicorn marks only its `cycle`, the last request read: the one being
            # answered, behind it, went on to write to the closed transport (a
            # RuntimeError and a traceback in the log).
            self.answering.disconnected = True
        super().connection_lost(exc)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self.answering = cycle
        super()._start_asgi_task(cycle, app)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.write_timer is None:
            self.wait_for_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        self.stop_write_timer()

    def wait_for_reading(self) -> None:
        self.unsent = self.transport.get_write_buffer_size()
        self.write_timer = self.loop.call_later(
            head_wait_seconds(), self.reading_checked
        )

    def stop_write_timer(self) -> None:
        if self.write_timer is not None:
            self.write_timer.cancel()
            self.write_timer = None

    def reading_checked(self) -> None:
        """Called FOURPI_REQUEST_WAIT_SECONDS after the transport's buffer was last
        seen full: a client that read some of it since has that long again."""
        self.write_timer = None
        if self.transport.get_write_buffer_size() < self.unsent:
            self.wait_for_reading()
            return
        self.reader_too_slow()

    def reader_too_slow(self) -> None:
        """Reset the connection: closing it would wait for the client to read
        what is buffered, and the kernel would keep the bytes it holds."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            # A linger of 0 seconds: closing sends a reset and drops what is
            # unsent (a socket already gone needs none).
            with contextlib.suppress(OSError):
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.ending or self.refusal is not None:
            return
        super().data_received(data)
        if self.in_head and not self.transport.is_closing():
            self.head_bytes += len(data)
            if self.head_bytes > LARGEST_HEAD_BYTES:
                self.head_too_large()

    def on_message_begin(self) -> None:
        if self.last_taken:
            self.ignoring = True
            self.in_head = False
        if self.ignoring:
            return
        super().on_message_begin()
        self.in_head = True
        self.head_bytes = 0
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(
                head_wait_seconds(), self.head_too_slow
            )

    def on_url(self, url: bytes) -> None:
        if not self.ignoring:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.ignoring:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_arrived()
        if self.ignoring:
            return
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not before:
            # uvicorn's answer closes the transport itself when it says
            # Connection: close (a 408 for a body that trickles, say), at once.
            self.cycle.transport = cast(
                asyncio.Transport, ClosedSoftly(self.transport, self.close_softly)
            )
        if len(self.pipeline) >= LARGEST_PIPELINE:
            # Those waiting are answered, the last with Connection: close.
            self.cycle.keep_alive = False
            self.last_taken = True

    def on_body(self, body: bytes) -> None:
        if not self.ignoring:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.ignoring:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        if self.ending:
            # The connection is closing softly: no request waiting behind the
            # answer is started (it could not be answered).
            self.server_state.total_requests += 1
            self.flow.resume_reading()
            return
        if self.refusal is not None and not self.pipeline:
            # The last answer due before the refusal is sent.
            self.server_state.total_requests += 1
            self.send_refusal()
            return
        super().on_response_complete()

    def head_arrived(self) -> None:
        self.in_head = False
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_too_large(self) -> None:
        self.refuse(
            http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            f"the request line and headers are larger than "
            f"{LARGEST_HEAD_BYTES:,} bytes",
        )

    def head_too_slow(self) -> None:
        self.head_timer = None
        if self.head_bytes == 0:
            self.transport.close()  # nothing asked: nobody to answer
            return
        self.refuse(
            http.HTTPStatus.REQUEST_TIMEOUT,
            f"the request line and headers did not arrive within "
            f"{head_wait_seconds():g} seconds",
        )

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to bytes its parser cannot read, which it wrote at
        once, before the answers still due on the connection."""
        self.refuse(http.HTTPStatus.BAD_REQUEST, msg)

    def refuse(self, status: http.HTTPStatus, reason: str) -> None:
        """Answer `status` with `reason` in plain text (before the head is whole,
        nothing says whether the API or the web app was asked), and close, once
        the requests read before the one refused are answered: a refusal written
        at once was read as the answer to the first of them."""
        if self.ending or self.refusal is not None:
            return
        self.head_arrived()
        body = (reason + "\n").encode()
        self.refusal = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()
            + b"content-type: text/plain; charset=utf-8\r\n"
            + f"content-length: {len(body)}\r\n".encode()
            + b"connection: close\r\n\r\n"
            + body
        )
        refused: RequestResponseCycle | None = self.cycle
        if refused is None or not refused.more_body or refused.response_complete:
            refused = None  # the request refused is still in its head
        if refused is not None and self.pipeline and self.pipeline[0][0] is refused:
            self.pipeline.popleft()  # its body cannot be read: it is not answered
        elif refused is not None:
            # It is being answered: it stops, told its client has gone, and
            # nothing is due before the refusal (unless its answer has begun).
            refused.disconnected = True
            refused.message_event.set()
            if refused.response_started:
                self.transport.close()
                return
        answering = self.answering
        if self.pipeline or (
            answering is not None
            and answering is not refused
            and not answering.response_complete
        ):
            return  # sent once the answers due before it are
        self.send_refusal()

    def send_refusal(self) -> None:
        assert self.refusal is not None
        self.transport.write(self.refusal)
        self.close_softly()

    def close_softly(self) -> None:
        """End the sending side once the answer is sent, read (and drop) what the
        client still sends for LINGER_SECONDS, then close, as web servers' lingering
        close does: the client reads the answer rather than a reset."""
        if self.ending or self.transport.is_closing():
            return
        self.ending = True
        self.flow.resume_reading()  # what waits in the kernel is read and dropped
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


class ClosedSoftly:
    """A request's view of its connection's transport (uvicorn's
    RequestResponseCycle writes its answer to it): all as the transport, except that
    closing it closes softly."""

    def __init__(self, transport: asyncio.Transport, close_softly: Any) -> None:
        self.transport = transport
        self.close = close_softly
        self.write = transport.write  # each piece of each answer: no lookup

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)
