"""gunicorn's uvicorn worker with `fourpi serve`'s protocol: `gunicorn -k fourpi.operations.gunicorn_worker.BoundedWorker`. Needs gunicorn and uvicorn-worker, which fourpi does not install (the dev extra has them)."""

from typing import Any

from uvicorn_worker import UvicornWorker

from fourpi.operations.connections import BoundedHttp


class BoundedWorker(UvicornWorker):  # type: ignore[misc]
    """uvicorn_worker.UvicornWorker, whose uvicorn has none of BoundedHttp's bounds:
    under it a client could send headers without end, hold connections without
    asking anything, or stop reading an answer, for as long as it liked. Like
    `fourpi serve`, it takes a client's address from X-Forwarded-For only when
    FOURPI_PROXY_HEADERS says so (uvicorn's own default believes 127.0.0.1)."""

    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "auto",
        "http": BoundedHttp,
        "proxy_headers": False,
    }
