"""The technician's, planner's and asset screens in a real Chromium, signed in through the console's own
sign-in API (session cookie + CSRF), at 360 px and 1280 px, in English and Chinese."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import segno
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.deps import Services
from core.domain import Forecast, WorkOrderKind, WorkOrderPriority, WorkOrderSource, WorkOrderStatus
from predictor.planner_service import PlanningService
from storage.records.plans import TaskFilter
from tests.api.conftest import PASSWORD, START, add_user_with_role, pump_readings
from tests.api.console_support import browser  # noqa: F401 - the Chromium fixture
from tests.api.test_routes_plans import planning  # noqa: F401 - the planner with a scripted solver
from workorders.book import Step

pytestmark = pytest.mark.integration
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
SIZES = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 800}}
VARIANTS = [("phone", "en"), ("phone", "zh-CN"), ("desktop", "en"), ("desktop", "zh-CN")]
WORDS = {
    "en": {"accept": "Accept", "on_site": "I am on site", "complete": "Complete", "code": "Failure code",
           "cause": "Cause: what was wrong", "remedy": "Remedy: what you did", "hours": "Labour hours",
           "photo": "Photo", "submit": "Complete the order", "empty": "No open orders for you. Well done.",
           "plan_accept": "Accept", "move": "Move…", "move_submit": "Move the task", "reject": "Reject…",
           "reject_submit": "Reject the task", "reason": "Reason", "new_day": "New day",
           "health": "health 41", "rul": "Remaining life about 38 days (P10 12, P90 80)", "reset": "Reset zoom"},
    "zh-CN": {"accept": "接单", "on_site": "已到场", "complete": "完工", "code": "故障代码", "cause": "故障原因",
              "remedy": "处理措施", "hours": "工时（小时）", "photo": "照片", "submit": "提交完工",  # noqa: RUF001 - Chinese punctuation
              "empty": "您没有待办工单。", "plan_accept": "接受", "move": "改期…", "move_submit": "确认改期",
              "reject": "拒绝…", "reject_submit": "拒绝任务", "reason": "理由", "new_day": "新日期",
              "health": "健康度 41", "rul": "剩余寿命约 38 天（P10 12，P90 80）", "reset": "重置缩放"},  # noqa: RUF001
}


@pytest.fixture(params=VARIANTS, ids=lambda p: f"{p[0]}-{p[1]}")
def variant(request: pytest.FixtureRequest) -> tuple[str, str]:
    size, language = request.param
    return size, language


@pytest.fixture
def signed_in(browser: Browser, live_server: Any, services: Services,  # noqa: F811
              variant: tuple[str, str]) -> Iterator[Callable[[str, str], Page]]:
    """``signed_in(role, user_id)``: a page of a browser signed in as that user (session cookie)."""
    size, language = variant
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_as(role: str, user_id: str) -> Page:
        add_user_with_role(services, role, user_id)
        context = browser.new_context(viewport=SIZES[size], locale=language, is_mobile=size == "phone",
                                      has_touch=size == "phone")
        contexts.append(context)
        answer = context.request.post(f"{live_server.url}/api/v1/auth/login",
                                      data={"username": user_id, "password": PASSWORD})
        assert answer.ok, answer.text()
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: errors.append(f"{error}\n{error.stack}"))
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert errors == []  # no script error on any page


def shot(page: Page, name: str, variant: tuple[str, str]) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-{variant[0]}-{variant[1]}.png"), full_page=True)


def photo_png() -> bytes:
    out = io.BytesIO()
    segno.make("a photo of the finished work").save(out, kind="png", scale=4)
    return out.getvalue()


def test_a_technician_accepts_arrives_and_completes_with_a_photo(signed_in: Callable[[str, str], Page],
                                                                  live_server: Any, services: Services,
                                                                  variant: tuple[str, str]) -> None:
    words = WORDS[variant[1]]
    order, _ = services.book.open(WorkOrderKind.REQUEST, WorkOrderPriority.URGENT, "Lift door closes too fast",
                                  "north", asset_id="north-lift-a", source=WorkOrderSource.REQUEST,
                                  address="lobby", caller_phone="+86 139 1111 2222")
    services.book.transition(order.id, Step(WorkOrderStatus.DISPATCHED, "desk", assignee="wang"))
    services.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, "Someone else's job", "north")
    page = signed_in("technician", "wang")
    page.goto(f"{live_server.url}/#/my-orders")
    card = page.locator(f'.order-card[data-order-id="{order.id}"]')
    expect(card).to_contain_text("Lift door closes too fast")
    expect(page.locator(".order-card")).to_have_count(1)  # only the orders assigned to this technician
    shot(page, "technician-orders", variant)

    card.get_by_role("button", name=words["accept"]).click()
    expect(card.get_by_role("button", name=words["on_site"])).to_be_visible()
    card.get_by_role("button", name=words["on_site"]).click()
    card.get_by_role("button", name=words["complete"]).click()
    card.get_by_label(words["code"]).select_option("door_operator")
    card.get_by_label(words["cause"]).fill("Door operator belt worn")
    card.get_by_label(words["remedy"]).fill("Replaced the belt, adjusted closing speed")
    card.get_by_label(words["hours"]).fill("1.5")
    card.get_by_label(words["photo"]).set_input_files(
        files=[{"name": "done.png", "mimeType": "image/png", "buffer": photo_png()}])
    shot(page, "technician-complete", variant)
    card.get_by_role("button", name=words["submit"]).click()
    expect(page.locator(".empty")).to_have_text(words["empty"])

    done = services.db.work_orders.get(order.id)
    assert (done.status, done.failure_code, done.labour_hours, done.assignee) == (
        WorkOrderStatus.COMPLETED, "door_operator", 1.5, "wang")
    assert done.accepted_at is not None
    assert done.on_site_at is not None
    assert services.attachments is not None
    assert len(services.attachments.list(order.id)) == 1


def test_a_planner_reviews_the_plan_in_the_calendar(signed_in: Callable[[str, str], Page], live_server: Any,
                                                    services: Services, planning: PlanningService,  # noqa: F811
                                                    variant: tuple[str, str]) -> None:
    words = WORDS[variant[1]]
    planning.replan("planner")
    tasks = {task.asset_id: task for task in services.db.plans.page(TaskFilter(), 10)[0]}
    page = signed_in("planner", "zhao")
    page.goto(f"{live_server.url}/#/plan?month={START:%Y-%m}")
    chips = page.locator(".task-chip")
    expect(chips).to_have_count(3)
    shot(page, "planner-calendar", variant)

    page.locator(f'.task-chip[data-task-id="{tasks["north-pump-1"].id}"]').click()
    page.locator(".task-details").get_by_role("button", name=words["plan_accept"], exact=True).click()
    expect(page.locator(f'.task-chip[data-task-id="{tasks["north-pump-1"].id}"]')).to_have_class(
        "task-chip status-accepted")

    moved_to = tasks["south-pump-1"].planned_date + timedelta(days=2)
    page.locator(f'.task-chip[data-task-id="{tasks["south-pump-1"].id}"]').click()
    page.get_by_role("button", name=words["move"]).click()
    page.get_by_label(words["new_day"]).fill(moved_to.isoformat())
    page.get_by_label(words["reason"]).fill("Tenant event that day")
    shot(page, "planner-move", variant)
    page.get_by_role("button", name=words["move_submit"]).click()
    expect(page.locator(f'.cal-day[data-day="{moved_to.isoformat()}"] .task-chip')).to_have_count(1)

    page.locator(f'.task-chip[data-task-id="{tasks["north-lift-a"].id}"]').click()
    page.get_by_role("button", name=words["reject"]).click()
    page.get_by_label(words["reason"]).fill("Overhauled last month")
    page.get_by_role("button", name=words["reject_submit"]).click()
    expect(chips).to_have_count(2)

    after = {asset: services.db.plans.get(task.id) for asset, task in tasks.items()}
    assert (after["north-pump-1"].status.value, after["south-pump-1"].status.value,
            after["north-lift-a"].status.value) == ("accepted", "moved", "rejected")
    assert after["south-pump-1"].planned_date == moved_to
    assert after["north-lift-a"].move_reason == "Overhauled last month"


def test_an_asset_page_charts_telemetry_zooms_and_shows_the_forecast_band(
        signed_in: Callable[[str, str], Page], live_server: Any, services: Services,
        variant: tuple[str, str]) -> None:
    words = WORDS[variant[1]]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    services.store.write(pump_readings("north-pump-1", "north", now - timedelta(days=2), 2 * 24 * 60,
                                       flow_m3h=30.0, discharge_bar=3.0))
    for days_ago, p50 in ((60, 70.0), (30, 52.0), (0, 38.0)):
        services.db.forecasts.add(Forecast("north-pump-1", now - timedelta(days=days_ago), 41.0 + days_ago / 10,
                                           p50, "vibration_mm_s", "t", rul_p10_days=p50 - 26,
                                           rul_p90_days=p50 + 42))
    page = signed_in("planner", "zhao")
    page.goto(f"{live_server.url}/#/asset/north-pump-1")
    expect(page.locator(".forecast .health")).to_have_text(words["health"])
    expect(page.locator(".forecast .rul")).to_have_text(words["rul"])
    chart = page.locator('.chart[data-metric="vibration_mm_s"]')
    expect(chart.locator("canvas")).to_have_count(1)
    reset = page.locator('figure:has(.chart[data-metric="vibration_mm_s"])').get_by_role("button", name=words["reset"])
    expect(reset).to_be_hidden()  # nothing to reset before a zoom
    expect(page.locator('.chart[data-chart="forecast"] canvas')).to_have_count(1)
    qr = page.locator(".qr img")
    expect(qr).to_have_js_property("naturalWidth", 164)  # the SVG QR code loaded (41 modules x 4)
    shot(page, "asset-page", variant)

    chart.scroll_into_view_if_needed()
    box = chart.locator(".u-over").bounding_box()
    assert box is not None
    with page.expect_request(lambda request: "/chart?" in request.url and "vibration_mm_s" in request.url) as asked:
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
    query = parse_qs(urlparse(asked.value.url).query)
    span = datetime.fromisoformat(query["until"][0]) - datetime.fromisoformat(query["since"][0])
    assert timedelta(hours=12) < span < timedelta(days=2)  # a fifth of the 7 days shown: finer buckets
    expect(reset).to_be_visible()
    expect(chart.locator("canvas")).to_have_count(1)  # the same chart, new data


@pytest.mark.parametrize("variant", [("desktop", "en")], indirect=True, ids=["desktop-en"])  # the live update: once
def test_the_calendar_follows_a_decision_taken_elsewhere(signed_in: Callable[[str, str], Page], live_server: Any,
                                                         services: Services, planning: PlanningService,  # noqa: F811
                                                         variant: tuple[str, str]) -> None:
    planning.replan("planner")
    page = signed_in("planner", "zhao")
    page.goto(f"{live_server.url}/#/plan?month={START:%Y-%m}")
    chips = page.locator(".task-chip")
    expect(chips).to_have_count(3)
    first = services.db.plans.page(TaskFilter(), 1)[0][0]
    planning.reject(first.id or 0, "pump replaced", "li")  # another planner, another browser
    expect(chips).to_have_count(2)  # without a reload: its order's event redraws the calendar
