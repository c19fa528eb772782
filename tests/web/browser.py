"""Driving the web app in Debian's Chromium with Playwright: one browser per test, a context per
person (a client and a therapist side by side), phone- and desktop-sized, and a screenshot of
every screen a test passes through (in var/screenshots/, kept as the run's artifacts)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from tests.web.web import CHROMIUM, DIST, INSTALL_CHROMIUM, ROOT

SCREENSHOTS = ROOT / "var" / "screenshots"


@dataclass(frozen=True)
class Viewport:
    name: str
    size: ViewportSize
    mobile: bool


PHONE = Viewport("phone", {"width": 390, "height": 844}, mobile=True)
DESKTOP = Viewport("desktop", {"width": 1280, "height": 800}, mobile=False)
VIEWPORTS = [PHONE, DESKTOP]


def require_browser() -> None:
    """Skip (outside CI) or fail (in CI) when Chromium or the built app is missing."""
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"no Chromium at {CHROMIUM}: {INSTALL_CHROMIUM}")
    if not (DIST / "index.html").is_file():
        problems.append("the web app is not built: `make web-build` (make test builds it)")
    if not problems:
        return
    if os.environ.get("CI"):
        pytest.fail("; ".join(problems))
    pytest.skip("; ".join(problems))


@dataclass
class Shots:
    """Numbered screenshots of one test at one viewport."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    async def take(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def shots_for(test_name: str, viewport: Viewport) -> Shots:
    folder = SCREENSHOTS / f"{re.sub(r'[^a-z0-9]+', '-', test_name.lower()).strip('-')}"
    folder = folder / viewport.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return Shots(folder)


@dataclass
class Browsers:
    browser: Browser
    viewport: Viewport
    base_url: str

    async def person(self) -> Page:
        """A new page in its own context: its own storage, so its own signed-in account."""
        context: BrowserContext = await self.browser.new_context(
            base_url=self.base_url,
            viewport=self.viewport.size,
            is_mobile=self.viewport.mobile,
            has_touch=self.viewport.mobile,
            locale="en-KE",
            timezone_id="Africa/Nairobi",
        )
        context.set_default_timeout(15_000)
        return await context.new_page()


@contextlib.asynccontextmanager
async def open_browsers(base_url: str, viewport: Viewport) -> AsyncIterator[Browsers]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Root in CI's containers has no user namespace for Chromium's sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield Browsers(browser=browser, viewport=viewport, base_url=base_url)
        finally:
            await browser.close()
