"""The app under gunicorn with fourpi's uvicorn worker (the README's command), on a real socket: the worker has `fourpi serve`'s bounds on slow and greedy clients, and hands a method its parser does not know to the app. Skipped without gunicorn and uvicorn-worker (installed with the dev extra), except under CI=true."""

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fourpi.bootstrap import open_records
from fourpi.operations.serving import FACTORY
from tests.conftest import IN_CI
from tests.test_serve import free_port, wait_until_up
from tests.test_slow_clients import (
    REQUEST_WAIT_SECONDS,
    connected,
    headers_without_end,
    slowly_answered,
)

GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
WORKER = "fourpi.operations.gunicorn_worker.BoundedWorker"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn serving the app with one BoundedWorker on a SQLite store: its port."""
    if GUNICORN is None or importlib.util.find_spec("uvicorn_worker") is None:
        reason = (
            "gunicorn and uvicorn-worker are not installed (the dev extra has them)"
        )
        if IN_CI:
            pytest.fail(f"CI=true, so the gunicorn tests must run, but {reason}")
        pytest.skip(reason)
    url = f"sqlite:///{tmp_path_factory.mktemp('gunicorn')}/g.sqlite3"
    open_records(url).close()
    port = free_port()
    process = subprocess.Popen(
        [GUNICORN, "-w", "1", "-k", WORKER, "-b", f"127.0.0.1:{port}", FACTORY + "()"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "FOURPI_DATABASE_URL": url,
            "FOURPI_REQUEST_WAIT_SECONDS": str(REQUEST_WAIT_SECONDS),
        },
        start_new_session=True,  # its worker is ended with it, whatever happens
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        yield port
    finally:
        # SIGTERM, gunicorn's graceful stop: on Ctrl-C (SIGINT) gunicorn sends its
        # workers SIGQUIT, which uvicorn-worker's server does not act on, and waits
        # out its graceful timeout (30 s) before killing them.
        process.terminate()
        try:
            process.wait(timeout=15)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def test_headers_without_end_are_refused_with_431(gunicorn: int) -> None:
    """Under the README's gunicorn command (then uvicorn_worker.UvicornWorker), a
    client sending header lines without end had every byte kept and no answer:
    uvicorn has no bound of its own. fourpi's worker refuses past 64 KB, as
    `fourpi serve` does."""
    status, headers, _ = headers_without_end(gunicorn)
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["connection"] == "close"


def test_a_connection_that_asks_nothing_is_closed(gunicorn: int) -> None:
    """Under uvicorn_worker.UvicornWorker it was held for ever."""
    with connected(gunicorn) as silent:
        assert slowly_answered(silent) == ("", {}, b"")
