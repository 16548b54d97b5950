"""Browser tests' helpers: Debian's Chromium driven by Playwright (skipped with the reason when it cannot run, except under CI=true), a real `fourpi serve`, and axe-core's WCAG 2.x A and AA rules."""

import os
import re
import shutil
import subprocess
import sys
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
def served(database_url: str) -> Iterator[str]:
    """`fourpi serve` on a free port; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [FOURPI, "serve", "--database", database_url, "--port", str(port)],
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
