"""The services the API works on, and the FastAPI dependencies that hand them to routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from collector.decode import Decoder
from core.clock import Clock
from core.events import EventBus
from core.settings import AuthSettings
from people.accounts import Accounts, policy_of
from predictor.planner_service import PlanningService
from rules.service import RulesService
from storage.records import Database
from storage.telemetry import TelemetryStore
from workorders.attachments import Attachments
from workorders.book import WorkOrderBook
from workorders.complaint_desk import ComplaintDesk
from workorders.dispatcher import DispatchService
from workorders.emergency_runs import EmergencyRunner
from workorders.notice_board import NoticeBoard
from workorders.rounds import InspectionRounds
from workorders.sla import SlaPolicy
from workorders.webhooks import WebhookNotifier


@dataclass
class Services:
    """Everything a request may touch; built by the entry point and given to ``create_app``."""

    db: Database
    store: TelemetryStore
    book: WorkOrderBook
    rules: RulesService
    bus: EventBus
    clock: Clock
    time_zone: str = "UTC"  # the zone of a site without its own (Settings.time_zone)
    stats: Callable[[], dict[str, Any]] | None = None
    # A fresh Decoder with the configured limits, for dead-letter reprocessing
    # (None: the collector's default limits).
    decoder: Callable[[], Decoder] | None = None
    # The collector's Prometheus exposition for GET /metrics (None: no collector here).
    metrics: Callable[[], bytes] | None = None
    # What the process depends on and whether it answers, for GET /healthz and /readyz (None: all "ok").
    health: Callable[[], dict[str, Any]] | None = None
    notifier: WebhookNotifier | None = None  # outbound webhooks (None: none configured)
    complaints: ComplaintDesk | None = None  # the complaint desk and the notice board (None: not served here)
    notices: NoticeBoard | None = None
    emergency: EmergencyRunner | None = None  # emergency plans: runs, drills, after-action records
    attachments: Attachments | None = None  # photos on work orders (None: uploads answered 503)
    sla_policy: SlaPolicy | None = None  # the SLA policy in force (None: the packaged one)
    dispatch: DispatchService | None = None  # technicians, shifts, proposals and dispatch (/technicians ...)
    inspections: InspectionRounds | None = None  # inspection rounds (None: the routes answer 503)
    planning: PlanningService | None = None  # the maintenance plan (None: the routes answer 503)
    # Sign-in (docs/security.md): the settings, and the accounts (None: built on ``db`` and ``clock``).
    auth: AuthSettings = field(default_factory=AuthSettings)
    accounts: Accounts | None = None
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API (api.cors_origins)

    def identity(self) -> Accounts:
        """The accounts that sign requests in."""
        if self.accounts is None:
            self.accounts = Accounts(self.db, self.clock, policy_of(self.auth))
        return self.accounts


async def get_services(request: Request) -> Services:  # async: no thread hop for a lookup
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
