"""/docs and /redoc render the API reference in a real browser from the packaged assets, asking no other host."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.api.console_support import CHROMIUM_ARGS

pytestmark = pytest.mark.integration


def test_swagger_ui_and_redoc_render_without_any_other_host(live_server: Any, chromium_path: str) -> None:
    foreign: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15_000)
            # What another host actually answered (the CSP refuses ReDoc's CDN logo before it leaves).
            page.on("response", lambda response: None if response.url.startswith(live_server.url)
                    or response.url.startswith(("data:", "blob:")) else foreign.append(response.url))
            served = page.goto(f"{live_server.url}/docs")
            assert served is not None
            assert "default-src 'self'" in served.headers["content-security-policy"]
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("facmon")
            expect(page.locator("#operations-alarms-list_alarms_api_v1_alarms_get")).to_be_visible()
            page.goto(f"{live_server.url}/redoc")
            expect(page.get_by_text("Problem").first).to_be_attached()
            expect(page.locator("h1").first).to_contain_text("facmon")
        finally:
            browser.close()
    assert foreign == []
