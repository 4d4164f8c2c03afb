"""The console shell in a real Chromium: sign-in, the language from the browser and its switch, navigation
by role, CSRF on writes, and a refused session sending the user back to sign in."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from playwright.sync_api import Error as PlaywrightError

from people.model import Role
from tests.api.console_support import PASSWORD, browser, open_page, sessions, shot, sign_in

__all__ = ["browser", "sessions"]
pytestmark = pytest.mark.integration


def test_sign_in_refuses_a_wrong_password_then_opens_the_roles_home(sessions: Any, live_server: Any,
                                                                    browser: Browser) -> None:
    page = open_page(browser, "desktop", "en")
    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#signin-error")).to_have_text("User name or password not accepted.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#link")).to_have_text("live")
    assert page.url.endswith("#/alarms")
    expect(page.locator("#who")).to_contain_text("Operator One")


def test_language_follows_the_browser_and_the_switch_is_remembered(sessions: Any, live_server: Any,
                                                                   browser: Browser) -> None:
    page = open_page(browser, "phone", "zh-CN")
    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    shot(page, "signin-phone-zh-CN")
    page.locator("#language").select_option("en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # remembered over the browser's choice


def test_a_session_ended_on_the_server_sends_the_user_to_sign_in(sessions: Any, live_server: Any,
                                                                 browser: Browser) -> None:
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.OPERATOR, "en")
    page.locator("#alarms").wait_for()  # signed in and shown, before the session ends
    sessions.clear()  # the server forgets the session (expired, revoked)
    apply = page.get_by_role("button", name="Apply")
    try:  # the next call answers 401 ...
        apply.click(timeout=3_000)
    except PlaywrightError:  # ... unless the live stream's reconnect met the 401 first and left the screen
        assert not apply.is_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#signin-error")).to_have_text("Your session has ended. Please sign in again.")


def test_sign_out_ends_the_session(sessions: Any, live_server: Any, browser: Browser) -> None:
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.ADMIN, "en")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert sessions == {}
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_keyboard_reaches_the_content_and_the_navigation(sessions: Any, live_server: Any, browser: Browser) -> None:
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.DISPATCHER, "en")
    page.reload()  # focus starts at the top of the document
    expect(page.locator("#link")).to_have_text("live")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#screen")).to_be_focused()
    assert page.url.endswith("#/orders")  # the skip link is not a route
    page.get_by_role("link", name="Monthly figures").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Monthly figures", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Monthly figures")).to_have_attribute("aria-current", "page")
