"""The dispatcher's board in a real Chromium: orders by state with SLA clocks and overdue marks; an order is
dispatched to a qualified technician and taken through the loop to completion with the completion form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from api.deps import Services
from core.clock import ManualClock
from people.model import Role
from people.records import PeopleRecords
from tests.api.console_support import browser, install_stand_in_sign_in, open_page, shot, sign_in
from workorders.dispatcher import DispatchService

__all__ = ["browser"]
pytestmark = pytest.mark.integration

LIFT_TECH = {"name": "Tom Lift", "phone": "+86 10 5555", "skills": ["elevator"],
             "certificates": {"elevator": "2026-12-31"}, "sites": ["north"], "zone": "east"}
WORDS = {
    "en": {"dispatch": "Dispatch", "to": "Technician", "move": "Move to", "save": "Save step", "code": "Failure code",
           "cause": "Cause", "remedy": "Remedy", "hours": "Labour hours", "overdue": "OVERDUE",
           "left": "due in"},
    "zh-CN": {"dispatch": "派单", "to": "维修技师", "move": "转为", "save": "保存", "code": "故障代码",
              "cause": "原因", "remedy": "处理措施", "hours": "工时", "overdue": "已超时",
              "left": "剩余"},
}


@pytest.fixture
def sessions(app: FastAPI, services: Services, token: str) -> Any:
    services.dispatch = DispatchService(services.db, PeopleRecords(services.db), services.book, services.clock)
    services.book.add_check(services.dispatch.check)
    return install_stand_in_sign_in(app, bearer=token)


def seed(client: TestClient, clock: ManualClock) -> tuple[int, int]:
    assert client.put("/api/v1/technicians/tom", json=LIFT_TECH).status_code == 200
    shift = {"user_id": "tom", "starts_at": clock.now().isoformat(),
             "ends_at": (clock.now() + timedelta(hours=8)).isoformat(), "on_call": False}
    assert client.post("/api/v1/shifts", json=shift).status_code == 201
    late = client.post("/api/v1/workorders", json={"title": "Lobby lamp out", "asset_id": "north-light-1",
                                                   "priority": "urgent"})
    assert late.status_code == 201, late.text
    clock.advance(timedelta(days=3))  # the lamp's order is now past its deadline
    lift = client.post("/api/v1/workorders", json={"title": "Lift door sticks", "asset_id": "north-lift-a",
                                                   "priority": "urgent"})
    assert lift.status_code == 201, lift.text
    return int(late.json()["id"]), int(lift.json()["id"])


@pytest.mark.parametrize(("viewport", "language"), [("desktop", "en"), ("phone", "zh-CN"), ("phone", "en"),
                                                    ("desktop", "zh-CN")])
def test_dispatcher_dispatches_and_completes_an_order_with_overdue_marked(
        sessions: Any, live_server: Any, browser: Browser, services: Services, client: TestClient,
        clock: ManualClock, viewport: str, language: str) -> None:
    words = WORDS[language]
    late, lift = seed(client, clock)
    page = open_page(browser, viewport, language)
    sign_in(page, live_server.url, Role.DISPATCHER, language)
    page.goto(f"{live_server.url}/#/orders")
    late_card = page.locator(f'.order-card[data-workorder-id="{late}"]')
    expect(late_card).to_have_attribute("data-overdue", "true")
    expect(late_card.locator(".sla")).to_contain_text(words["overdue"])
    lift_card = page.locator(f'.order-card[data-workorder-id="{lift}"]')
    expect(lift_card).to_have_attribute("data-overdue", "false")
    expect(lift_card.locator(".sla")).to_have_attribute("data-target", "accept")  # the server's SLA clock
    expect(lift_card.locator(".sla")).to_contain_text(words["left"])
    expect(page.locator('.column[data-status="requested"]')).to_contain_text("Lift door sticks")
    shot(page, f"dispatcher-{viewport}-{language}")

    lift_card.locator(".order-open").click()
    dialog = page.locator("dialog.order-dialog")
    dialog.get_by_label(words["to"]).select_option("tom")
    dialog.get_by_role("button", name=words["dispatch"], exact=True).click()
    expect(dialog.locator(".order-assignee")).to_have_text("tom")
    expect(page.locator('.column[data-status="dispatched"]')).to_contain_text("Lift door sticks")
    for step in ("accepted", "on_site", "in_progress"):
        dialog.get_by_label(words["move"]).select_option(step)
        dialog.get_by_role("button", name=words["save"]).click()
        expect(page.locator(f'.column[data-status="{step}"]')).to_contain_text("Lift door sticks")
    dialog.get_by_label(words["move"]).select_option("completed")
    code = dialog.get_by_label(words["code"])
    code.select_option("door_operator")
    dialog.get_by_role("textbox", name=words["cause"]).fill("door roller worn")
    dialog.get_by_role("textbox", name=words["remedy"]).fill("roller replaced")
    dialog.get_by_label(words["hours"]).fill("1.5")
    dialog.get_by_role("button", name=words["save"]).click()
    expect(page.locator('.column[data-status="completed"]')).to_contain_text("Lift door sticks")
    done = services.db.work_orders.get(lift)
    assert done.assignee == "tom"
    assert (done.cause, done.remedy, done.labour_hours) == ("door roller worn", "roller replaced", 1.5)
