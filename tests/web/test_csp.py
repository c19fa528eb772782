"""The built app under production's strict Content-Security-Policy: its script runs, its
stylesheet applies, and the browser reports no violation."""

from __future__ import annotations

import pytest
from playwright.async_api import ConsoleMessage, expect

from tests.session_api.flows.flow import Flow
from tests.web.browser import Browsers

pytestmark = pytest.mark.timeout(120)


async def test_the_app_runs_under_the_strict_policy(stack: Flow, browsers: Browsers) -> None:
    page = await browsers.person()
    console: list[str] = []
    page.on("console", lambda message: console.append(_text(message)))
    await page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    response = await page.goto("/signin")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Email").fill("nobody@example.com")

    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "max-age=" in response.headers["strict-transport-security"]
    # The stylesheet from /assets applied: the body uses the app's font stack.
    font = await page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font
    assert await page.evaluate("window.__violations") == []
    assert [line for line in console if "Content Security Policy" in line] == []


def _text(message: ConsoleMessage) -> str:
    return message.text
