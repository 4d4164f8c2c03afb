"""The console's live stream against a scripted event stream: a dropped stream is resumed with Last-Event-ID,
`event: reset` reloads the screen's lists, and a refused credential (401) sends the user to sign in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from playwright.sync_api import Browser, expect

from people.model import Role
from tests.api.console_support import browser, install_stand_in_sign_in, open_page, sign_in

__all__ = ["browser"]
pytestmark = pytest.mark.integration


class ScriptedStream:
    """Answers each connection to /api/v1/events with the next scripted reply, recording Last-Event-ID."""

    def __init__(self, replies: list[str | int], hold_s: float = 0.0) -> None:
        self.replies = replies
        self.hold_s = hold_s  # how long a stream that will drop stays open first
        self.last_ids: list[str | None] = []
        self.connected = threading.Event()

    async def __call__(self, request: Request) -> Response:
        self.last_ids.append(request.headers.get("Last-Event-ID"))
        reply = self.replies.pop(0) if self.replies else ": idle\n\n"
        if isinstance(reply, int):
            return JSONResponse({"title": "Unauthorized", "status": reply}, status_code=reply,
                                media_type="application/problem+json")

        async def body() -> AsyncIterator[bytes]:
            yield b"retry: 50\n: connected\n\n"
            yield reply.encode()
            await asyncio.sleep(30 if not self.replies else self.hold_s)  # the last one stays open

        return StreamingResponse(body(), media_type="text/event-stream")


@pytest.fixture
def stream(app: FastAPI) -> ScriptedStream:
    install_stand_in_sign_in(app)
    scripted = ScriptedStream([
        'id: 7\nevent: alarm.raised\ndata: {"id": 1, "severity": "low", "asset_id": "north-pump-1"}\n\n',
        "event: reset\ndata: {}\n\n",
        401,
    ])
    app.router.add_api_route("/api/v1/events", scripted, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the real stream
    return scripted


def test_stream_resumes_with_last_event_id_reloads_on_reset_and_signs_out_on_401(
        stream: ScriptedStream, live_server: Any, browser: Browser) -> None:
    page = open_page(browser, "desktop", "en")
    page.goto(live_server.url)
    page.get_by_label("User name").fill(Role.OPERATOR.value)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in", exact=True).click()
    # 1st stream: one event with id 7, then dropped; 2nd: resumed with Last-Event-ID 7, says reset; 3rd: 401
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)
    expect(page.locator("#signin-error")).to_have_text("Your session has ended. Please sign in again.")
    assert stream.last_ids[:3] == [None, "7", "7"]


def test_reset_reloads_the_screen(app: FastAPI, live_server: Any, browser: Browser) -> None:
    install_stand_in_sign_in(app)
    scripted = ScriptedStream([": nothing yet\n\n", "event: reset\ndata: {}\n\n"], hold_s=3.0)
    app.router.add_api_route("/api/v1/events", scripted, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())
    page = open_page(browser, "desktop", "en")
    sign_in(page, live_server.url, Role.OPERATOR, "en")
    expect(page.locator("#alarms")).to_be_visible()
    page.evaluate("window.__before = document.querySelector('#alarms')")
    page.wait_for_function("!window.__before.isConnected", timeout=10_000)  # the screen was rendered anew
    expect(page.locator("#alarms")).to_be_visible()
    assert len(scripted.last_ids) >= 2
