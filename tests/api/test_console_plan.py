"""The console's maintenance plan in a real Chromium: the tasks with their reasons, updated live on a re-plan."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from api.deps import Services
from predictor.planner_service import PlanningService
from storage.records.plans import TaskFilter
from tests.api.test_console import browser, page  # noqa: F401 - the Chromium fixtures
from tests.api.test_routes_plans import planning  # noqa: F401 - the planner with a scripted solver

pytestmark = pytest.mark.integration


def test_the_plan_shows_its_tasks_with_reasons_and_follows_a_replan(live_server: Any, page: Page,  # noqa: F811
                                                                    services: Services, token: str,
                                                                    planning: PlanningService) -> None:  # noqa: F811
    planning.replan()
    page.goto(f"{live_server.url}/#token={token}")
    expect(page.locator("#link")).to_have_text("live")
    rows = page.locator("#plan tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#plan-count")).to_have_text("(3)")
    expect(rows.first).to_contain_text("North booster pump 1")
    expect(rows.first).to_contain_text("P10 of remaining life is 12 days; service due")
    page.screenshot(path="/tmp/console-plan.png", full_page=True)
    first = services.db.plans.tasks(TaskFilter())[0]
    planning.reject(first.id or 0, "pump replaced", "zhao")  # its order is cancelled: a planned-order event
    expect(rows).to_have_count(2)
    expect(page.locator("#plan-count")).to_have_text("(2)")


def test_without_a_planner_the_console_leaves_the_plan_out(live_server: Any, page: Page,  # noqa: F811
                                                           token: str) -> None:
    page.goto(f"{live_server.url}/#token={token}")
    expect(page.locator("#link")).to_have_text("live")
    expect(page.locator("#plan")).to_be_hidden()

