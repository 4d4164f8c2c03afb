"""Residents in a real Chromium, without an app, on a 360 px phone and a desktop, in both languages: the QR
code's form files a repair, the follow page shows its progress, and the resident rates it once completed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from api.deps import Services
from core.domain import RequestChannel, WorkOrderSource, WorkOrderStatus
from tests.api.conftest import PASSWORD, add_user_with_role
from tests.api.console_support import browser  # noqa: F401 - the Chromium fixture
from workorders.book import Step

pytestmark = pytest.mark.integration
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
SIZES = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 800}}
TEXT = {  # what the resident reads, per language (from the catalogs, written out: a missing key shows)
    "en": {"name": "Your name", "phone": "Phone", "place": "Flat or place", "what": "What needs repair?",
           "send": "Send request", "thanks": "Thank you, it is logged", "received": "Received",
           "rate": "Send rating", "rated": "You rated it 4 of 5. Thank you!", "complaint": "Complaint",
           "about": "What is it about?"},
    "zh-CN": {"name": "您的姓名", "phone": "电话", "place": "房号或位置", "what": "需要维修什么？",  # noqa: RUF001
              "send": "提交报修", "thanks": "谢谢，已受理", "received": "已受理", "rate": "提交评价",  # noqa: RUF001
              "rated": "您的评价：4 星（满分 5 星）。谢谢！", "complaint": "投诉", "about": "投诉类别"},  # noqa: RUF001
}


@pytest.fixture(params=[("phone", "en"), ("phone", "zh-CN"), ("desktop", "en"), ("desktop", "zh-CN")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def resident_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, str, str]]:  # noqa: F811
    size, language = request.param
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], locale=language, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page, size, language
    context.close()


def test_a_resident_files_follows_and_rates_a_repair(live_server: Any, services: Services,
                                                     resident_page: tuple[Page, str, str]) -> None:
    page, size, language = resident_page
    words = TEXT[language]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/request?asset=north-lift-a")  # what the lift's QR code opens
    expect(page.locator("#site-name")).to_have_text("North Tower")
    expect(page.locator("#asset-name")).to_have_text("North lift A")
    page.get_by_label(words["name"]).fill("Ms Chen")
    page.get_by_label(words["phone"]).fill("+86 139 1111 2222")
    page.get_by_label(words["place"]).fill("2-1203")
    page.get_by_label(words["what"]).fill("The lift door closes too fast")
    send = page.get_by_role("button", name=words["send"])
    box = send.bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a thumb's target
    assert box["x"] + box["width"] <= SIZES[size]["width"]  # nothing wider than the screen
    page.screenshot(path=str(SHOTS / f"resident-form-{size}-{language}.png"), full_page=True)
    send.click()

    expect(page.get_by_role("heading", name=words["thanks"])).to_be_visible()
    number = int(page.locator("#order-number").inner_text())
    order = services.db.work_orders.get(number)
    assert (order.source, order.channel, order.asset_id, order.site_id, order.requester) == (
        WorkOrderSource.REQUEST, RequestChannel.MOBILE, "north-lift-a", "north", "Ms Chen")
    link = page.locator("#follow-link")
    expect(link).to_have_attribute("href", re.compile(r"/follow/[A-Za-z0-9_-]{40,}$"))
    page.screenshot(path=str(SHOTS / f"resident-receipt-{size}-{language}.png"), full_page=True)

    link.click()
    expect(page.locator("#number")).to_have_text(f"#{number}")
    expect(page.locator('#steps li[data-step="received"]')).to_have_class("done")
    expect(page.locator("#status")).to_have_text(words["received"])
    expect(page.locator("#rating")).to_be_hidden()

    book = services.book
    book.transition(number, Step(WorkOrderStatus.ACCEPTED, "wang"))
    book.transition(number, Step(WorkOrderStatus.ON_SITE, "wang"))
    book.transition(number, Step(WorkOrderStatus.COMPLETED, "wang", failure_code="door_operator", cause="worn",
                                 remedy="adjusted", labour_hours=1.0))
    page.locator("#refresh").click()
    expect(page.locator('#steps li[data-step="completed"]')).to_have_class("done")
    page.locator("#stars label").nth(3).click()  # the fourth star, as a thumb picks it
    expect(page.locator('#stars input[value="4"]')).to_be_checked()
    page.get_by_role("button", name=words["rate"]).click()
    expect(page.locator("#rated")).to_have_text(words["rated"])
    page.screenshot(path=str(SHOTS / f"resident-follow-{size}-{language}.png"), full_page=True)
    assert services.db.work_orders.get(number).satisfaction == 4
    assert errors == []


def test_the_same_form_files_a_complaint(live_server: Any, services: Services, browser: Browser) -> None:  # noqa: F811
    from workorders.complaint_desk import ComplaintDesk

    services.complaints = ComplaintDesk(services.db, services.book, services.bus, services.clock)
    context = browser.new_context(viewport=SIZES["phone"], locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/request?site=north")
    page.get_by_role("button", name=TEXT["zh-CN"]["complaint"]).click()
    page.get_by_label(TEXT["zh-CN"]["about"]).select_option("noise")
    page.get_by_label(TEXT["zh-CN"]["name"]).fill("2-1203")
    page.get_by_label("发生了什么？").fill("水泵夜间噪音大")  # noqa: RUF001
    page.get_by_role("button", name="提交投诉").click()
    expect(page.locator("#order-number")).to_have_text(re.compile(r"^\d+$"))
    complaint = services.complaints.get(int(page.locator("#order-number").inner_text()))
    assert (complaint.category.value, complaint.complainant, complaint.site_id) == ("noise", "2-1203", "north")
    context.close()


def test_a_follow_link_that_names_nothing_says_so(live_server: Any, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page(locale="en")
    page.goto(f"{live_server.url}/follow/{'x' * 43}")
    expect(page.locator("#gone")).to_be_visible()
    page.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_signed_in_resident_sees_and_rates_what_they_filed(live_server: Any, services: Services,
                                                              browser: Browser, size: str) -> None:  # noqa: F811
    add_user_with_role(services, "resident", "res-chen")
    context = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    answer = context.request.post(f"{live_server.url}/api/v1/auth/login",
                                  data={"username": "res-chen", "password": PASSWORD})
    assert answer.ok, answer.text()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/request?site=north")  # signed in: the form files it as theirs
    page.get_by_label(TEXT["zh-CN"]["name"]).fill("陈女士")
    page.get_by_label(TEXT["zh-CN"]["phone"]).fill("13911112222")
    page.get_by_label(TEXT["zh-CN"]["place"]).fill("2-1203")
    page.get_by_label(TEXT["zh-CN"]["what"]).fill("卫生间灯闪烁")
    page.get_by_role("button", name=TEXT["zh-CN"]["send"]).click()
    expect(page.locator("#order-number")).to_have_text(re.compile(r"^\d+$"))
    number = int(page.locator("#order-number").inner_text())
    book = services.book
    book.transition(number, Step(WorkOrderStatus.ACCEPTED, "wang"))
    book.transition(number, Step(WorkOrderStatus.ON_SITE, "wang"))
    book.transition(number, Step(WorkOrderStatus.COMPLETED, "wang", failure_code="other", cause="c", remedy="r",
                                 labour_hours=0.5))

    page.goto(f"{live_server.url}/#/mine")
    card = page.locator(f'.order-card[data-kind="request"][data-id="{number}"]')
    expect(card).to_contain_text("卫生间灯闪烁")
    card.get_by_role("button", name="5 星：非常好").click()  # noqa: RUF001
    expect(card).to_contain_text("您的评价：5 星")  # noqa: RUF001
    page.screenshot(path=str(SHOTS / f"resident-mine-{size}-zh-CN.png"), full_page=True)
    assert services.db.work_orders.get(number).satisfaction == 5
    context.close()
