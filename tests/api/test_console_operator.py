"""The operator's screen in a real Chromium, signed in as an operator: an alarm raised by the rules appears
live, is acknowledged, commented, assigned and shelved with a chosen time and reason; a power cut lists the
alarms it suppresses under it; the KPIs of the last day. At phone and desktop size, in both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from api.deps import Services
from core.domain import Alarm, Severity
from people.model import Role
from tests.api.console_support import browser, open_page, sessions, shot, sign_in

__all__ = ["browser", "sessions"]
pytestmark = pytest.mark.integration

WORDS = {
    "en": {"details": "Details", "ack": "Acknowledge", "acked": "acknowledged", "shelve": "Shelve",
           "reason": "Reason", "for": "Shelve for", "comment": "Comment", "add": "Add comment",
           "assign_to": "Assign to (user id)", "assign": "Assign", "kpis": "Last 24 hours"},
    "zh-CN": {"details": "详情", "ack": "确认", "acked": "已确认", "shelve": "搁置", "reason": "原因",
              "for": "搁置时长", "comment": "备注", "add": "添加备注", "assign_to": "指派给（用户 ID）",  # noqa: RUF001,
              "assign": "指派", "kpis": "最近 24 小时"},
}


@pytest.mark.parametrize(("viewport", "language"), [("desktop", "en"), ("phone", "zh-CN"), ("phone", "en"),
                                                    ("desktop", "zh-CN")])
def test_operator_acknowledges_comments_assigns_and_shelves_a_live_alarm(
        sessions: Any, live_server: Any, browser: Browser, services: Services,
        burst_pipe: Callable[..., Alarm], viewport: str, language: str) -> None:
    words = WORDS[language]
    page = open_page(browser, viewport, language)
    sign_in(page, live_server.url, Role.OPERATOR, language)
    expect(page.get_by_role("heading", name=words["kpis"])).to_be_visible()
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))

    alarm = burst_pipe()  # through the real rules service; the console hears it on the live stream

    row = page.locator(f'#alarms tr[data-alarm-id="{alarm.id}"]')
    expect(row).to_contain_text("North booster pump 1")
    row.get_by_role("button", name=words["details"]).click()
    detail = page.locator(".alarm-detail")
    detail.get_by_role("button", name=words["ack"], exact=True).click()
    expect(detail.locator("dd.alarm-state")).to_have_text(words["acked"])
    expect(detail.get_by_role("button", name=words["ack"], exact=True)).to_be_disabled()
    assert services.db.alarms.get(alarm.id).acknowledged_by is not None

    detail.get_by_label(words["comment"]).fill("crew on the way")
    detail.get_by_role("button", name=words["add"]).click()
    expect(detail.locator(".history")).to_contain_text("crew on the way")
    detail.get_by_label(words["assign_to"]).fill("tech-7")
    detail.get_by_role("button", name=words["assign"], exact=True).click()
    expect(row).to_contain_text("tech-7")
    shot(page, f"operator-{viewport}-{language}")

    detail.get_by_label(words["for"]).select_option("4")
    detail.get_by_label(words["reason"]).fill("valve replaced tomorrow")
    detail.get_by_role("button", name=words["shelve"], exact=True).click()
    expect(row).to_have_count(0)  # shelved: off the live list
    shelved = services.db.alarms.get(alarm.id)
    assert shelved.shelved_until == services.clock.now() + timedelta(hours=4)
    assert shelved.shelve_reason == "valve replaced tomorrow"
    assert shelved.assignee == "tech-7"
    assert loads == []  # all of it without a page load


def test_power_cut_lists_the_alarms_it_suppresses_under_it(sessions: Any, live_server: Any, browser: Browser,
                                                           services: Services) -> None:
    now = services.clock.now()
    alarms = services.db.alarms
    cut, _ = alarms.raise_alarm("site_power_cut", "north", "north", Severity.CRITICAL, "Power cut at site north", now)
    pump, _ = alarms.raise_alarm("mains_lost", "north-pump-1", "north", Severity.HIGH, "Mains lost at pump", now)
    alarms.set_flags(pump.id, now, "rules", suppressed_by=cut.id)
    alarms.raise_alarm("lighting_circuit_failure", "north-light-1", "north", Severity.MEDIUM, "Lobby circuit", now)
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.OPERATOR, "en")

    rows = page.locator("#alarms tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-alarm-id", str(cut.id))
    expect(rows.nth(0).locator(".marker-grouped")).to_have_text("1 suppressed below")
    expect(rows.nth(1)).to_have_attribute("data-suppressed-by", str(cut.id))
    expect(page.locator("#alarm-count")).to_have_text("(2)")  # the suppressed one is not counted
    shot(page, "operator-power-cut-desktop-en")


def test_a_viewer_sees_alarms_without_actions(sessions: Any, live_server: Any, browser: Browser,
                                              burst_pipe: Callable[..., Alarm]) -> None:
    alarm = burst_pipe()
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.VIEWER, "en")
    page.locator(f'#alarms tr[data-alarm-id="{alarm.id}"]').get_by_role("button", name="Details").click()
    expect(page.locator(".alarm-detail .history")).to_be_visible()
    expect(page.locator(".alarm-detail").get_by_role("button", name="Acknowledge")).to_have_count(0)
