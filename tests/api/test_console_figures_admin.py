"""The manager's figures and the admin screen in a real Chromium: the month's figures with a chart and a CSV
export in the chosen language; rules reloaded and dead letters listed and reprocessed from the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from api.deps import Services
from core.domain import DeadLetter
from people.model import Role
from tests.api.console_support import browser, open_page, sessions, shot, sign_in

__all__ = ["browser", "sessions"]
pytestmark = pytest.mark.integration

EXPORT = {"en": ("Export CSV", "Site,Month,Kind,Assets,Orders opened"),
          "zh-CN": ("导出 CSV", "项目,月份,类型,设备数,新建工单")}


@pytest.mark.parametrize(("viewport", "language"), [("desktop", "en"), ("phone", "zh-CN"), ("phone", "en"),
                                                    ("desktop", "zh-CN")])
def test_figures_show_the_month_with_a_chart_and_export_in_the_language(
        sessions: Any, live_server: Any, browser: Browser, tmp_path: Path, viewport: str, language: str) -> None:
    page = open_page(browser, viewport, language)
    sign_in(page, live_server.url, Role.SUPERVISOR, language)
    page.goto(f"{live_server.url}/#/figures?month=2026-03")
    rows = page.locator("#figures-table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2  # each site's kinds and "all"
    expect(page.locator(".chart canvas")).to_have_count(1)
    shot(page, f"figures-{viewport}-{language}")
    label, header = EXPORT[language]
    with page.expect_download() as download:
        page.get_by_role("button", name=label).click()
    saved = tmp_path / "figures.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith(header)
    assert "2026-03" in text


def test_admin_reloads_rules_and_reprocesses_dead_letters(sessions: Any, live_server: Any, browser: Browser,
                                                         services: Services) -> None:
    services.db.dead_letters.add(DeadLetter(0, services.clock.now(), "facmon/v1/north/pump/ghost-9/telemetry",
                                            "unknown_asset", "no asset ghost-9", b'{"ts": 0, "metrics": {}}'))
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.ADMIN, "en")
    page.goto(f"{live_server.url}/#/admin")
    expect(page.locator("#dead-letters")).to_contain_text("ghost-9")
    page.get_by_role("button", name="Reload rules").click()
    expect(page.locator("#rules-result")).to_contain_text("no rule source is configured")  # the server says why
    page.get_by_role("button", name="Reprocess").click()
    expect(page.locator("#notice")).to_contain_text("still rejected 1")
    assert len(services.db.dead_letters.list()) == 1  # an unknown asset stays rejected
    shot(page, "admin-desktop-en")


def test_admin_screen_is_not_offered_to_an_operator(sessions: Any, live_server: Any, browser: Browser) -> None:
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.OPERATOR, "en")
    expect(page.locator("#nav-list")).not_to_contain_text("Administration")
    page.goto(f"{live_server.url}/#/admin")
    expect(page).to_have_url(f"{live_server.url}/#/alarms")  # sent home
