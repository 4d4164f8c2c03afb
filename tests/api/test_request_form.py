"""The residents' repair form in a real headless Chromium on a phone-sized screen: the order is filed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from api.deps import Services
from core.domain import RequestChannel, WorkOrderSource
from tests.api.console_support import browser  # noqa: F401 - the Chromium fixture

pytestmark = pytest.mark.integration
PHONE = {"width": 390, "height": 844}  # a common phone's CSS viewport


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the imported fixture
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_resident_files_a_request_on_a_phone_and_sees_the_order_number(live_server: Any, phone_page: Page,
                                                                         services: Services) -> None:
    requests: list[str] = []
    phone_page.on("request", lambda request: requests.append(request.url))
    phone_page.goto(f"{live_server.url}/request?site=north")
    expect(phone_page.locator("#site-name")).to_have_text("north")
    phone_page.get_by_label("Your name").fill("Ms Chen")
    phone_page.get_by_label("Phone").fill("+86 139 1111 2222")
    phone_page.get_by_label("Flat or place").fill("2-1203")
    phone_page.get_by_label("What needs repair?").fill("Bathroom light flickers")
    send = phone_page.get_by_role("button", name="Send request")
    box = send.bounding_box()
    assert box is not None
    assert box["width"] > 300  # a full-width target a thumb can hit
    assert box["height"] >= 44
    send.tap()

    number = phone_page.locator("#order-number")
    expect(number).to_have_text(re.compile(r"^\d+$"))
    order = services.db.work_orders.get(int(number.inner_text()))
    assert (order.source, order.channel, order.site_id, order.requester, order.caller_phone, order.address) == (
        WorkOrderSource.REQUEST, RequestChannel.MOBILE, "north", "Ms Chen", "+86 139 1111 2222", "2-1203")
    assert order.title == "Bathroom light flickers"
    assert all(url.startswith(live_server.url) for url in requests)  # nothing from another host


def test_the_form_says_what_is_missing_and_needs_a_site(live_server: Any, phone_page: Page,
                                                        services: Services) -> None:
    phone_page.goto(f"{live_server.url}/request?site=north")
    phone_page.get_by_label("Your name").fill("Ms Chen")
    phone_page.get_by_role("button", name="Send request").tap()
    expect(phone_page.locator("#error")).to_have_text(
        "Please give your phone, the flat or place, what needs repair.")
    assert services.db.work_orders.count() == 0
    phone_page.goto(f"{live_server.url}/request")
    expect(phone_page.locator("#error")).to_contain_text("QR code")
    expect(phone_page.get_by_role("button", name="Send request")).to_be_disabled()
