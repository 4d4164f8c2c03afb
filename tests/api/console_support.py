"""Shared pieces of the console's browser tests: Chromium, a page per viewport and language, and a stand-in
for the sign-in API (its contract: POST /auth/login sets facmon_session + facmon_csrf, GET /auth/me, POST
/auth/logout) until the real one is merged; then ``signed_in_app`` can use the real users instead."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Cookie, FastAPI, HTTPException, Request, Response
from playwright.sync_api import Browser, Page, sync_playwright
from pydantic import BaseModel

import api.auth
import api.identity
from people.access import ROLE_PERMISSIONS, Principal
from people.model import Role

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 860}}
LANGUAGES = {"en": "en-GB", "zh-CN": "zh-CN"}
PASSWORD = "correct horse battery"
# The dependencies that establish who a request is, before and after the real sign-in is merged.
CREDENTIAL_CHECKS = [(api.identity, "current_principal"), (api.identity, "current_principal_or_query"),
                     (api.auth, "require_token"), (api.auth, "require_token_or_query")]


class Login(BaseModel):
    username: str
    password: str


def principal_of(role: Role) -> Principal:
    return Principal(f"{role.value}-1", f"{role.value.title()} One", frozenset({role}), ROLE_PERMISSIONS[role],
                     via="session")


def install_stand_in_sign_in(app: FastAPI, bearer: str | None = None) -> dict[str, Principal]:
    """Serve the sign-in contract with one user per role (user name = role, password PASSWORD); the test's
    own TestClient keeps working with ``Authorization: Bearer <bearer>`` (as the local admin)."""
    sessions: dict[str, Principal] = {}
    router = APIRouter(prefix="/api/v1/auth")

    def me(request: Request, facmon_session: Annotated[str | None, Cookie()] = None) -> Principal:
        if bearer is not None and request.headers.get("Authorization") == f"Bearer {bearer}":
            return principal_of(Role.ADMIN)
        if facmon_session is None or facmon_session not in sessions:
            raise HTTPException(401, "not signed in")
        unsafe = request.method not in {"GET", "HEAD", "OPTIONS"}
        if unsafe and request.headers.get("X-CSRF-Token") != request.cookies.get("facmon_csrf"):
            raise HTTPException(403, "missing or wrong X-CSRF-Token")
        return sessions[facmon_session]

    @router.post("/login")
    def login(body: Login, response: Response) -> dict[str, Any]:
        if body.username not in {role.value for role in Role} or body.password != PASSWORD:
            raise HTTPException(401, "user name or password not accepted")
        session, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        sessions[session] = principal_of(Role(body.username))
        response.set_cookie("facmon_session", session, httponly=True, samesite="strict", path="/")
        response.set_cookie("facmon_csrf", csrf, samesite="strict", path="/")
        return {"user": as_me(sessions[session]), "csrf_token": csrf}

    @router.get("/me")
    def whoami(request: Request, facmon_session: Annotated[str | None, Cookie()] = None) -> dict[str, Any]:
        return as_me(me(request, facmon_session))

    @router.post("/logout", status_code=204)
    def logout(response: Response, facmon_session: Annotated[str | None, Cookie()] = None) -> None:
        sessions.pop(facmon_session or "", None)
        response.delete_cookie("facmon_session", path="/")

    app.router.routes[:0] = router.routes  # before the console's static mount
    for module, name in CREDENTIAL_CHECKS:  # whichever of them this version of the app has
        if hasattr(module, name):
            app.dependency_overrides[getattr(module, name)] = me
    return sessions


def as_me(principal: Principal) -> dict[str, Any]:
    return {"id": principal.user_id, "name": principal.name, "roles": sorted(principal.roles),
            "permissions": sorted(principal.permissions), "locale": None, "sites": sorted(principal.sites),
            "via": principal.via}


@pytest.fixture
def sessions(app: FastAPI) -> dict[str, Principal]:
    """The stand-in sign-in on the test's app: its sessions by cookie (clear it to end them all)."""
    return install_stand_in_sign_in(app)


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, viewport: str, language: str) -> Page:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale=LANGUAGES[language])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page: Page, url: str, role: Role, language: str) -> None:
    page.goto(url)
    labels = {"en": ("User name", "Password", "Sign in"), "zh-CN": ("用户名", "密码", "登录")}[language]
    page.get_by_label(labels[0]).fill(role.value)
    page.get_by_label(labels[1]).fill(PASSWORD)
    page.get_by_role("button", name=labels[2], exact=True).click()
    page.locator("#link[data-state='live']").wait_for()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
