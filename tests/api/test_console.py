"""The operations console in a real Chromium: an alarm raised by the rules appears live and is acknowledged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.deps import Services
from api.identity import LOCAL_ADMIN
from core.domain import Alarm, Forecast, Severity

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = "/tmp/console.png"

pytestmark = pytest.mark.integration


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(10_000)
    yield page
    page.close()


def test_alarm_appears_live_and_is_acknowledged(live_server: Any, page: Page, services: Services, token: str,
                                                burst_pipe: Callable[..., Alarm]) -> None:
    services.db.forecasts.add(Forecast("north-pump-1", services.clock.now(), 62.0, 41.0, "vibration_mm_s", "t",
                                       rul_p10_days=12.0, rul_p90_days=80.0))
    services.db.forecasts.add(Forecast("south-pump-1", services.clock.now(), 95.0, 380.0, "vibration_mm_s", "t"))
    page.goto(f"{live_server.url}/#token={token}")
    expect(page.locator("#link")).to_have_text("live")
    expect(page.locator("#alarms tbody")).to_contain_text("No alarms need attention.")
    assert "token" not in page.url  # taken out of the address bar once stored
    loads = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))

    alarm = burst_pipe()  # through the real rules service: flow 72 m3/h at 0.9 bar for 5 minutes

    row = page.locator(f'#alarms tr[data-alarm-id="{alarm.id}"]')
    expect(row).to_contain_text("Burst pipe suspected")
    expect(row).to_contain_text("North booster pump 1")
    expect(row.locator(".alarm-state")).to_have_text("unacknowledged")
    expect(page.locator("#announcer")).to_contain_text("New critical alarm on North booster pump 1")
    expect(page.locator(f'#workorders tr[data-workorder-id="{alarm.work_order_id}"]')).to_contain_text(
        "Burst pipe at")
    expect(page.locator('#forecasts tr[data-asset-id="north-pump-1"]')).to_contain_text("41 days (P10 12, P90 80)")
    expect(page.locator('#forecasts tr[data-asset-id="north-pump-1"]')).to_contain_text("62%")  # health 0-100
    page.screenshot(path=SCREENSHOT, full_page=True)

    row.get_by_role("button", name="Acknowledge").click()
    expect(row.locator(".alarm-state")).to_have_text("acknowledged")
    expect(row.get_by_role("button", name="Acknowledge")).to_be_disabled()
    assert services.db.alarms.get(alarm.id).acknowledged_by == LOCAL_ADMIN  # who is signed in, not the body
    assert loads == []  # everything above happened without a reload


def test_console_asks_for_the_token_and_refuses_a_wrong_one(live_server: Any, page: Page, token: str) -> None:
    page.goto(live_server.url)
    token_input = page.get_by_label("API token")
    expect(token_input).to_be_visible()
    token_input.fill("wrong")
    page.get_by_role("button", name="Open console").click()
    expect(page.locator("#login-error")).to_have_text("That token was refused.")
    token_input.fill(token)
    page.get_by_role("button", name="Open console").click()
    expect(page.locator("#link")).to_have_text("live")
    expect(page.get_by_role("heading", name="Alarms")).to_be_visible()


def test_power_cut_groups_suppressed_alarms_under_it_with_markers(live_server: Any, page: Page,
                                                                  services: Services, token: str) -> None:
    now = services.clock.now()
    alarms = services.db.alarms
    cut, _ = alarms.raise_alarm("site_power_cut", "north", "north", Severity.CRITICAL, "Power cut at site north", now)
    pump, _ = alarms.raise_alarm("mains_lost", "north-pump-1", "north", Severity.HIGH, "Mains lost at pump", now)
    alarms.set_flags(pump.id, now, "rules", suppressed_by=cut.id)
    lights, _ = alarms.raise_alarm("lighting_circuit_failure", "north-light-1", "north", Severity.MEDIUM,
                                   "Lobby circuit failed", now)
    page.goto(f"{live_server.url}/#token={token}")
    expect(page.locator("#link")).to_have_text("live")

    rows = page.locator("#alarms tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-alarm-id", str(cut.id))
    expect(rows.nth(0).locator(".marker-grouped")).to_have_text("1 suppressed below")
    expect(rows.nth(1)).to_have_attribute("data-suppressed-by", str(cut.id))
    expect(rows.nth(1).locator(".marker-suppressed")).to_have_text(f"suppressed by #{cut.id}")
    expect(page.locator("#alarm-count")).to_have_text("(2)")
    page.screenshot(path="/tmp/console-power-cut.png", full_page=True)

    lights_row = page.locator(f'#alarms tr[data-alarm-id="{lights.id}"]')
    page.once("dialog", lambda dialog: dialog.accept("lamp order pending"))
    lights_row.get_by_role("button", name="Shelve 8 h").click()
    expect(lights_row.locator(".marker-shelved")).to_contain_text("shelved until")
    expect(page.locator("#alarm-count")).to_have_text("(1)")
    shelved = services.db.alarms.get(lights.id)
    assert shelved.shelved_until == services.clock.now() + timedelta(hours=8)
    assert shelved.shelve_reason == "lamp order pending"
    lights_row.get_by_role("button", name="Unshelve").click()
    expect(lights_row.locator(".marker-shelved")).to_have_count(0)
    expect(page.locator("#alarm-count")).to_have_text("(2)")
