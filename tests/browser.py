"""Helpers for driving the kiosk screen in the machine's own headless Chromium through Playwright.

Playwright's own browser download cannot work offline, so tests use Debian's /usr/bin/chromium with
the flags that keep it off the network. axe-core comes from npm, installed by setup.sh under the
venv (or wherever KIOSK_AXE_JS points).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Playwright, ViewportSize

from kiosk.events import Command, Commands

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
"""Playwright gives every launch a fresh, empty profile (its own --user-data-dir) as well."""
AXE_JS = Path(os.environ.get("KIOSK_AXE_JS", PROJECT / ".venv/node/node_modules/axe-core/axe.min.js"))
ARTIFACTS = PROJECT / "test-artifacts" / "screen"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
"""A common kiosk panel; the page must fit it with no scrolling of the controls."""


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium (setup.sh does)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)


def open_screen(browser: Browser, url: str, **options: Any) -> tuple[BrowserContext, Page]:
    """A new context and page on the screen, returned once its event stream is connected.

    bypass_csp lets axe be injected; the page's own CSP still governs everything the page loads.
    """
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True, **options)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-connected=true]", timeout=5000)
    return context, page


def wait_for(predicate: Callable[[], Any], timeout: float = 3.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def drain(commands: Commands, settle: float = 0.3) -> list[Command]:
    """Every command posted by now, after giving in-flight posts `settle` seconds to arrive."""
    time.sleep(settle)
    got = []
    while (command := commands.get()) is not None:
        got.append(command)
    return got


def center(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


class Pointer:
    """One finger (real touch events through the DevTools protocol) or the mouse, pressed and moved by hand.

    Playwright's touchscreen can only tap; a finger that slides off a button needs touchMove.
    """

    def __init__(self, page: Page, kind: str) -> None:
        self.page = page
        self.kind = kind
        self._cdp: CDPSession | None = page.context.new_cdp_session(page) if kind == "touch" else None
        self._at = (0.0, 0.0)

    def _touch(self, kind: str, points: list[tuple[float, float]]) -> None:
        assert self._cdp is not None
        self._cdp.send("Input.dispatchTouchEvent",
                       {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})

    def down(self, x: float, y: float) -> None:
        self._at = (x, y)
        if self._cdp:
            self._touch("touchStart", [(x, y)])
        else:
            self.page.mouse.move(x, y)
            self.page.mouse.down()

    def move(self, x: float, y: float, steps: int = 5) -> None:
        x0, y0 = self._at
        for i in range(1, steps + 1):
            xi, yi = x0 + (x - x0) * i / steps, y0 + (y - y0) * i / steps
            if self._cdp:
                self._touch("touchMove", [(xi, yi)])
            else:
                self.page.mouse.move(xi, yi)
        self._at = (x, y)

    def up(self) -> None:
        if self._cdp:
            self._touch("touchEnd", [])
        else:
            self.page.mouse.up()

    def tap(self, x: float, y: float) -> None:
        self.down(x, y)
        self.up()

    def two_fingers(self, first: tuple[float, float], second: tuple[float, float]) -> None:
        """A spasm that lands a second finger (or the palm) on another button while the first is down."""
        self._touch("touchStart", [first])
        self._touch("touchStart", [first, second])
        self._touch("touchEnd", [])
