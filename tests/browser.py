"""Browser tests' helpers: Debian's Chromium driven by Playwright (skipped with the reason when it cannot run, except under CI=true), a real `fourpi serve`, and axe-core's WCAG 2.x A and AA rules."""

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.test_serve import free_port, wait_until_up

CHROMIUM = os.environ.get("FOURPI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_A_AND_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FOURPI = str(Path(sys.executable).parent / "fourpi")


def browser_unavailable() -> str | None:
    """Why no browser test can run here, or None."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import axe_playwright_python  # type: ignore[import-untyped]  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        return f"Playwright or axe-playwright-python is not installed: {error}"
    return None


def needs_browser() -> None:
    reason = browser_unavailable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true, so browser tests must run, but {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served(database_url: str, *options: str) -> Iterator[str]:
    """`fourpi serve` on a free port, with `options` (as `--metrics`); its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [FOURPI, "serve", "--database", database_url, "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "FOURPI_PUBLIC_URL": base},
    )
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def withholding_bodies(base: str) -> Iterator[str]:
    """A proxy in front of `base` that passes on each request's line and headers
    but never its body, as a connection too slow to carry it would, and every
    answer whole: its base URL. The browser's page waits until the server gives
    up on the body."""
    host, port = base.removeprefix("http://").split(":")
    listener = socket.create_server(("127.0.0.1", 0))
    opened: list[socket.socket] = [listener]

    def answers(server: socket.socket, browser: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := server.recv(65536):
                browser.sendall(chunk)
        with contextlib.suppress(OSError):
            browser.shutdown(socket.SHUT_WR)

    def requests(browser: socket.socket, server: socket.socket) -> None:
        waiting = b""
        withheld = False
        with contextlib.suppress(OSError):
            while chunk := browser.recv(65536):
                if withheld:
                    continue  # the body, and whatever follows it
                waiting += chunk
                while not withheld and b"\r\n\r\n" in waiting:
                    head, _, waiting = waiting.partition(b"\r\n\r\n")
                    server.sendall(head + b"\r\n\r\n")
                    withheld = b"\r\ncontent-length:" in head.lower()

    def accepting() -> None:
        with contextlib.suppress(OSError):
            while True:
                browser, _ = listener.accept()
                server = socket.create_connection((host, int(port)))
                opened.extend([browser, server])
                for copy, ends in (
                    (answers, (server, browser)),
                    (requests, (browser, server)),
                ):
                    threading.Thread(target=copy, args=ends, daemon=True).start()

    threading.Thread(target=accepting, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        for each in opened:
            each.close()


def assert_accessible(page: Any, state: str) -> None:
    """axe-core finds no violation of the WCAG 2.x A and AA rules in the page as
    drawn now. Call it once the page a click led to has been seen (`shown`,
    `heading_is`, `arrived`): axe run while a document is being replaced finds no
    document."""
    from axe_playwright_python.sync_playwright import (  # type: ignore[import-untyped]
        Axe,
    )

    page.wait_for_load_state()
    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_A_AND_AA},
            "resultTypes": ["violations"],
        },
    )
    violations = results.response["violations"]
    assert not violations, f"{state} ({page.url}):\n" + "\n".join(
        f"- {v['id']}: {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in violations
    )


def assert_fits(page: Any, width: int, state: str) -> None:
    """Nothing scrolls sideways at this width (320 px, or 1280 px at 400% zoom)."""
    page.set_viewport_size({"width": width, "height": 800})
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        # How far each element reaches: its box, or its content where that runs
        # past the box (a long word in a cell overflows the cell, not the cell's
        # box); the elements named are the innermost that reach past the window.
        wide = page.evaluate(
            """(width) => {
              const reach = e => Math.max(e.getBoundingClientRect().right,
                e.getBoundingClientRect().left + e.scrollWidth);
              // The innermost: no child of theirs reaches as far.
              return [...document.querySelectorAll('body *')]
                .filter(e => reach(e) > width + 1
                  && ![...e.children].some(c => reach(c) >= reach(e) - 1))
                .sort((a, b) => reach(b) - reach(a))
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.')
                     + ' ' + Math.round(reach(e)));
            }""",
            width,
        )
        raise AssertionError(
            f"{state}: {scroll} px wide in a {width} px window; past it: {wide}"
        )


def ask_during_a_report(page: Any, base: str) -> None:
    """Ask for a report while one's own earlier report is being made: the page
    answered 429 is drawn."""
    for _ in range(5):
        page.evaluate("() => { fetch('/answers/report.pdf'); }")
        page.wait_for_timeout(1000)  # its answers gathered: its PDF under way
        if page.goto(f"{base}/answers/report.html").status == 429:
            return
    raise AssertionError("a second report was never asked for during the first")


def ask_during_many_answers(page: Any, base: str) -> None:
    """Ask for an answer page while the same person's many other answer pages (a
    script with their session, each over a period of its own) are being answered:
    the page answered 429 is drawn."""
    import datetime as dt

    import httpx

    from fourpi.threads import QUESTIONS_PER_CALLER

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}

    async def burst(first: int) -> None:
        days = (dt.date(2001, 1, 1) + dt.timedelta(days=first + n) for n in range(80))
        async with httpx.AsyncClient(
            base_url=base,
            cookies=cookies,
            timeout=120,
            limits=httpx.Limits(max_connections=100),
        ) as client:
            await asyncio.gather(
                *(
                    client.get("/answers", params={"from": day.isoformat()})
                    for day in days
                )
            )

    for attempt in range(5):
        running = threading.Thread(target=asyncio.run, args=(burst(100 * attempt),))
        running.start()
        try:
            page.wait_for_timeout(500 + 500 * attempt)
            if page.goto(f"{base}/answers?from=2000-01-01").status == 429:
                return
        finally:
            running.join()
    raise AssertionError(
        f"no page was refused during {QUESTIONS_PER_CALLER}+ answer pages of one person"
    )


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def shown(locator: Any) -> None:
    """The element is visible once the page has drawn it. A click that sends a form
    returns when the next page starts to arrive, so `is_visible()`, which answers at
    once, may look before the page is drawn; this waits (up to Playwright's 5 s).
    A failure says where the page was and what its main part held."""
    from playwright.sync_api import expect

    try:
        expect(locator).to_be_visible()
    except AssertionError as error:
        page = locator.page
        main = page.locator("main")
        held = main.first.inner_text(timeout=2000) if main.count() else ""
        raise AssertionError(
            f"{error}\nat {page.url}, whose main part holds:\n{held}"
        ) from None


def heading_is(page: Any, text: str) -> None:
    """The page's main heading says this, once the page a click led to is drawn
    (the page that was there before has a main heading too)."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def arrived(page: Any, *parts: str) -> None:
    """The browser is at an address holding every one of these parts, once the
    navigation a click started has come in."""
    from playwright.sync_api import expect

    expect(page).to_have_url(
        re.compile("".join(f"(?=.*{re.escape(part)})" for part in parts))
    )


FOCUS_STOP = """(forced) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = text => (text.match(/rgba?\\([^)]*\\)/g) || []).map(c => c.match(/[\\d.]+/g).map(Number))
    .filter(c => c.length < 4 || c[3] > 0);
  const luminance = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((m, n) => n - m);
    return (x + 0.05) / (y + 0.05); };
  const style = getComputedStyle(el);
  const drawnBox = ['checkbox', 'radio'].includes(el.type);  // paints no box-shadow
  const outline = style.outlineStyle === 'solid' && parseFloat(style.outlineWidth) >= 2;
  const colours = [...(outline ? rgb(style.outlineColor) : []),
                   ...(drawnBox ? [] : rgb(style.boxShadow))];
  const white = [255, 255, 255];
  const before = window.__unfocused.get(el);
  const shows = forced ? outline
    : colours.some(c => contrast(c, white) >= 3)
      || (before !== undefined && rgb(before).length && rgb(style.backgroundColor).length
          && contrast(rgb(before)[0], rgb(style.backgroundColor)[0]) >= 3);
  const r = el.getBoundingClientRect();
  const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const top = document.elementFromPoint(x, y);
  const seen = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth
    && top !== null && (el.contains(top) || top.contains(el)
      || [...(el.labels || [])].some(label => label.contains(top)));
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.type ? '[' + el.type + ']' : '') + ' "' + (el.innerText || el.value || '').trim().slice(0, 40) + '"';
  return {name, shows, seen, outline: style.outlineStyle + ' ' + style.outlineWidth + ' ' + style.outlineColor,
          shadow: style.boxShadow};
}"""


def assert_focus_visible(page: Any, state: str, forced: bool = False) -> int:
    """Tab through the whole page, as a keyboard user does: each element reached is
    in the window and not covered (2.4.11), and shows where the focus is (2.4.7)
    with a colour of at least 3:1 against the white page (1.4.11): an outline of 2 px
    or more, a shadow (not on a drawn checkbox or radio, which paints none), or a
    background that changes by 3:1. With forced colours (`forced`), where shadows and
    backgrounds are dropped, only an outline counts. Tab starts where the focus is
    (on a page just drawn, the top; after an error, the error summary). The number of
    stops."""
    page.evaluate(
        """() => {
          window.__unfocused = new Map([...document.querySelectorAll('*')]
            .map(e => [e, getComputedStyle(e).backgroundColor]));
        }"""
    )
    stops: list[str] = []
    wrong: list[str] = []
    for _ in range(400):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_STOP, forced)
        if stop is None or (stops and stop["name"] == stops[0]):
            break  # back to the window's own controls, or round to the first
        stops.append(stop["name"])
        if not stop["seen"]:
            wrong.append(f"{stop['name']}: out of sight or covered")
        if not stop["shows"]:
            wrong.append(
                f"{stop['name']}: no visible focus (outline {stop['outline']}, "
                f"shadow {stop['shadow']})"
            )
    assert stops, f"{state}: nothing to Tab to"
    assert not wrong, f"{state} ({page.url}):\n" + "\n".join(wrong)
    return len(stops)


def assert_errors_announced(page: Any, state: str) -> None:
    """A page sent back with errors (3.3.1, 2.4.2, 4.1.3): its title starts "Error:",
    the error summary has the focus (so it is read out and Tab goes on from there),
    and each line of it links to its field, which is marked invalid and described by
    its error beside it (a group: its fieldset described, its choices invalid)."""
    wrong = page.evaluate(
        """() => [...document.querySelectorAll('.error-summary a')].flatMap(link => {
          const id = link.getAttribute('href').slice(1);
          const target = document.getElementById(id);
          if (!target) return [`${id}: no such field`];
          const group = target.closest('fieldset');
          const controls = target.matches('input, select, textarea')
            ? (group && ['checkbox', 'radio'].includes(target.type)
               ? [...group.querySelectorAll('input')] : [target])
            : target.matches('fieldset') ? [...target.querySelectorAll('input')] : [];
          if (!controls.length) return [];  // the error is the form's or a section's
          const described = (group && ['checkbox', 'radio'].includes(controls[0].type)
            ? group : controls[0]).getAttribute('aria-describedby') || '';
          const error = described.split(' ').map(d => document.getElementById(d))
            .find(e => e && e.classList.contains('error-message'));
          return [
            ...controls.filter(c => c.getAttribute('aria-invalid') !== 'true')
              .map(c => `${c.id}: not marked aria-invalid`),
            ...(error && error.offsetParent !== null ? [] : [`${id}: not described by a visible error`]),
          ];
        })"""
    )
    assert not wrong, f"{state} ({page.url}):\n" + "\n".join(wrong)
    assert page.title().startswith("Error: "), f"{state}: title {page.title()!r}"
    focused = page.evaluate("document.activeElement.className")
    assert focused == "error-summary", f"{state}: the focus is on {focused!r}"
