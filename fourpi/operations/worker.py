"""The projection worker as an operator sees it: it runs the views' catch-up in a thread, logs each batch, and reports that it is alive to a small table in the views' database, which every process (API, readiness check, `fourpi projections status`) can read."""

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError

from fourpi.projections.views import DEFAULT_POLL_SECONDS, ImpactViews

log = logging.getLogger("fourpi.operations.worker")

REPORT_EVERY_SECONDS = 5.0
"""How often a running worker says it is alive."""
ALIVE_WITHIN_SECONDS = 30.0
"""A worker that has reported within this long counts as alive."""
REPORTS_KEPT_SECONDS = 7 * 24 * 3600.0
"""Reports of workers gone longer than this are removed as new ones arrive."""
TABLE = "fourpi_worker_reports"
FIRST_PAUSE_SECONDS = 0.5
"""How long a worker whose store stopped answering waits before it starts again;
doubled after each failure, up to LONGEST_PAUSE_SECONDS."""
LONGEST_PAUSE_SECONDS = 30.0


@dataclass(frozen=True)
class WorkerReport:
    """A worker's last word: who, when (seconds since the epoch) and how far the
    views had got."""

    worker: str
    reported_at: float
    position: int
    running: bool = True
    """False once the worker has stopped cleanly (it says so as it stops)."""

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.reported_at)

    def alive(self, now: float | None = None) -> bool:
        return self.running and self.age(now) <= ALIVE_WITHIN_SECONDS


class WorkerReports:
    """The workers' reports, one row a worker, beside the views in their database."""

    def __init__(self, views: ImpactViews) -> None:
        self.store: Any = views.store
        schema = getattr(self.store.datastore, "schema", "")
        self.table = f'"{schema}".{TABLE}' if schema else TABLE
        self.mark = self.store.placeholder
        for attempt in (1, 2):
            try:
                with self.store.writing() as cursor:
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {self.table} (worker TEXT "
                        "PRIMARY KEY, reported_at DOUBLE PRECISION NOT NULL, "
                        "position BIGINT NOT NULL, running INTEGER NOT NULL)"
                    )
                break
            except Exception:
                # PostgreSQL: two processes creating it at once, one of them fails.
                if attempt == 2:
                    raise

    def report(self, worker: str, position: int, *, running: bool = True) -> None:
        now = time.time()
        m = self.mark
        with self.store.writing() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (worker, reported_at, position, running) "
                f"VALUES ({m}, {m}, {m}, {m}) ON CONFLICT (worker) DO UPDATE SET "
                "reported_at = excluded.reported_at, position = excluded.position, "
                "running = excluded.running",
                (worker, now, position, int(running)),
            )
            cursor.execute(
                f"DELETE FROM {self.table} WHERE reported_at < {m}",
                (now - REPORTS_KEPT_SECONDS,),
            )

    def latest(self) -> WorkerReport | None:
        """The latest report of a live worker, else the latest of any, else None."""
        columns = f"SELECT worker, reported_at, position, running FROM {self.table}"
        with self.store.reading_tuples() as cursor:
            cursor.execute(
                f"{columns} WHERE running = 1 AND reported_at >= {self.mark} "
                "ORDER BY reported_at DESC LIMIT 1",
                (time.time() - ALIVE_WITHIN_SECONDS,),
            )
            row = cursor.fetchone()
            if row is None:
                cursor.execute(f"{columns} ORDER BY reported_at DESC LIMIT 1")
                row = cursor.fetchone()
        if row is None:
            return None
        return WorkerReport(str(row[0]), float(row[1]), int(row[2]), bool(row[3]))


def describe_worker(report: WorkerReport | None, now: float | None = None) -> str:
    """One line for `fourpi projections status` and the readiness check."""
    if report is None:
        return "Projection worker: none has ever reported."
    at = datetime.fromtimestamp(report.reported_at, UTC).isoformat(timespec="seconds")
    age = f"{report.age(now):.0f} s ago, at {at}, at log position {report.position}"
    if report.alive(now):
        return f"Projection worker: alive ({report.worker} last reported {age})."
    if not report.running:
        return f"Projection worker: none running ({report.worker} stopped {age})."
    return (
        f"Projection worker: none alive (the last, {report.worker}, reported {age}; "
        f"a live one reports every {REPORT_EVERY_SECONDS:g} s)."
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ProjectionWorker:
    """Keeps the views caught up in a thread of this process, logging each batch and
    reporting every few seconds while that thread lives."""

    def __init__(
        self, views: ImpactViews, *, poll_seconds: float = DEFAULT_POLL_SECONDS
    ) -> None:
        self.views = views
        self.poll_seconds = poll_seconds
        self.name = worker_name()
        self.reports = WorkerReports(views)
        self.last_reported: float | None = None
        self._reached = views.position()
        from fourpi.notices import NoteSender, OutcomeNotes

        self.notes = OutcomeNotes.from_environment(views)
        """Outcome notes by email ($FOURPI_SMTP_URL): made due after each batch,
        sent by a thread of their own, so a slow mail host never holds up the views."""
        self.note_sender = None if self.notes is None else NoteSender(self.notes)
        self._stopping = threading.Event()
        self._working = threading.Event()
        """Set while the views' catch-up loop runs: only then does it report."""
        self._runner = threading.Thread(
            target=self._run, name="fourpi-projections", daemon=True
        )
        self._reporter = threading.Thread(
            target=self._report, name="fourpi-worker-reports", daemon=True
        )

    def start(self) -> "ProjectionWorker":
        self._runner.start()
        self._reporter.start()
        if self.note_sender is not None:
            self.note_sender.start()
        return self

    def alive(self) -> bool:
        return self._runner.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ends the worker's run, even one whose thread has not begun it yet."""
        self._stopping.set()
        self.views.stop()
        self._runner.join(timeout)
        self._reporter.join(timeout)
        if self.note_sender is not None:
            self.note_sender.stop(timeout)

    def run_here(self) -> None:
        """Run in the calling thread until stopped (or Ctrl-C), reporting meanwhile."""
        self._reporter.start()
        if self.note_sender is not None:
            self.note_sender.start()
        try:
            self._run()
        finally:
            self._stopping.set()
            if self.note_sender is not None:
                self.note_sender.stop()
            self._reporter.join(REPORT_EVERY_SECONDS)

    def _run(self) -> None:
        log.info("projection worker %s started at log position %d", *self._where())
        self._working.set()
        if self.notes is not None:
            self.notes.after(self.views.position())
        try:
            self._run_through_outages()
        except Exception:
            log.exception("projection worker %s stopped by an error", self.name)
            raise
        finally:
            self._working.clear()
            self._say_stopped()
        log.info("projection worker %s stopped at log position %d", *self._where())

    def _run_through_outages(self) -> None:
        """Keep the views caught up until stopped. A store that stops answering (a
        dropped connection, PostgreSQL restarting, a locked or failing file) ends a
        run, not the worker: it starts again, after a pause that doubles while the
        store stays away, from wherever the views had got to. Each batch is applied
        with its position in one transaction, so nothing is applied twice."""
        pause = FIRST_PAUSE_SECONDS
        while True:
            began = time.monotonic()
            try:
                self.views.run(
                    poll_seconds=self.poll_seconds,
                    progress=self._applied,
                    stopping=self._stopping,
                )
                return
            except (OperationalError, InterfaceError):
                if self._stopping.is_set():
                    return
                if time.monotonic() - began > LONGEST_PAUSE_SECONDS:
                    pause = FIRST_PAUSE_SECONDS
                log.exception(
                    "projection worker %s lost the store; starting again in %g s",
                    self.name,
                    pause,
                )
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    def _say_stopped(self) -> None:
        try:
            self.reports.report(self.name, self.views.position(), running=False)
        except Exception:
            log.exception("projection worker %s could not report its stop", self.name)

    def _where(self) -> tuple[str, int]:
        return self.name, self.views.position()

    def _applied(self, position: int, head: int) -> None:
        log.info(
            "applied events %d to %d to the views (log head %d)",
            self._reached + 1,
            position,
            head,
        )
        self._reached = position
        if self.notes is not None:
            self.notes.after(position)

    def _report(self) -> None:
        while not self._stopping.is_set():
            if self._working.wait(REPORT_EVERY_SECONDS) and not self._stopping.is_set():
                try:
                    self.reports.report(self.name, self.views.position())
                    self.last_reported = time.time()
                except Exception:
                    log.exception("projection worker %s could not report", self.name)
            self._stopping.wait(REPORT_EVERY_SECONDS)
