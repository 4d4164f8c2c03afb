"""The runtime: builds every part from Settings and runs them together as one service."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import uvicorn

from api.app import create_app, create_probe_app
from api.deps import Services
from collector.decode import Decoder
from collector.ingest import RULES, STORE, Ingest
from collector.mqtt import MqttConsumer
from collector.registry import AssetRegistry
from collector.reprocess import build_decoder
from collector.spool import Spool
from core.clock import Clock, WallClock
from core.domain import Asset, Site
from core.errors import ServiceUnavailable
from core.events import STOPPING, EventBus
from core.health import BROKER, Dependencies
from core.partitions import Ownership
from core.settings import ROLES, Settings
from core.zones import parse_zone
from facmon.dependencies import dependency_exposition, dependency_watch, wait_for_database, watched_dependencies
from facmon.partitioning import SCHEDULER_LEASE, CoverageWatch, PartitionLease, owned_registry
from facmon.periodic import Periodic
from people.accounts import Accounts, policy_of
from people.records import PeopleRecords
from predictor.planner_service import PlanningService, planning_service
from predictor.service import Predictor
from predictor.training import train_all
from rules.model import Rule
from rules.pack import default_rules, load_rules, merge
from rules.ruleset import RuleFileWatcher
from rules.service import RulesService, alarm_json
from storage.records import Database
from storage.telemetry import TelemetryStore, open_telemetry_store
from workorders.attachments import Attachments, open_blob_store
from workorders.book import WorkOrderBook
from workorders.complaint_desk import ComplaintDesk
from workorders.dispatcher import DispatchService
from workorders.emergency import configured_plans
from workorders.emergency_runs import EmergencyRunner
from workorders.escalation import SlaWatch
from workorders.inspection_templates import load_templates
from workorders.notice_board import NoticeBoard
from workorders.rounds import InspectionRounds
from workorders.slafile import load_policy
from workorders.webhooks import WebhookNotifier, build_notifier

log = logging.getLogger(__name__)
RULES_TICK_S = 30.0  # clock seconds between rule ticks (shelf expiry, no-data watermark)
RULES_CHECKPOINT_S = 10.0  # wall seconds between rule checkpoints (a successor replays at most this much)
SLA_CHECK_S = 30.0  # wall seconds between SLA checks (each reads the clock: accelerated under the demo)
ROUNDS_PLAN_S = 24 * 3600.0  # clock seconds between generations of inspection rounds
REPLAN_S = 24 * 3600.0  # clock seconds between scheduled re-plans (each forecast run re-plans too)


class _Started:
    """A one-shot thread (a standby waiting for its lease) in the list of parts that ``stop`` stops."""

    def __init__(self, thread: threading.Thread) -> None:
        self._thread = thread
        thread.start()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._thread.join(timeout=5)


def configured_rules(settings: Settings) -> list[Rule]:
    """The default pack (unless disabled) with each configured rule file applied on top, in order."""
    rules = default_rules() if settings.rules.use_default_pack else []
    for path in settings.rules.files:
        rules = merge(rules, load_rules(path))
    return rules


@dataclass
class Runtime:
    """Every part of facmon, wired; ``start`` and ``stop`` run them in the right order."""

    settings: Settings
    clock: Clock
    bus: EventBus
    db: Database
    store: TelemetryStore
    book: WorkOrderBook
    rules: RulesService
    predictor: Predictor
    make_ingest: Callable[[], Ingest]  # opens the spool: only once this process owns its partition
    emergency: EmergencyRunner
    dispatch: DispatchService
    notifier: WebhookNotifier | None = None
    sla: SlaWatch | None = None
    inspections: InspectionRounds | None = None
    planning: PlanningService | None = None
    partition: PartitionLease | None = None  # this process's partition lease, when it has taken one
    lost: str | None = None  # why the process gave its partition up (it then exits to stand by again)
    on_lost: Callable[[], None] = field(default=lambda: os.kill(os.getpid(), signal.SIGTERM))  # `facmon serve` stops
    dependencies: Dependencies | None = None  # broker, store, database: /healthz, /readyz, facmon_dependency_up
    _threads: list[Any] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _scheduler: PartitionLease | None = None
    _ingest: Ingest | None = None

    @property
    def ingest(self) -> Ingest:
        """The collector's pipeline, built (its spool opened) on first use: a standby must not open the spool
        its partition's holder is writing."""
        if self._ingest is None:
            self._ingest = self.make_ingest()
        return self._ingest
    _consumer: MqttConsumer | None = None
    _server: uvicorn.Server | None = None
    _api_thread: threading.Thread | None = None

    def register(self, sites: list[Site], assets: list[Asset]) -> None:
        for site in sites:
            self.db.assets.upsert_site(site)
        for asset in assets:
            self.db.assets.upsert_asset(asset)

    def start(self) -> None:
        """Start this process's roles (``serve.roles``): the scheduler's periodic work, the partition's
        ingest and rules (after taking its lease: a standby waits on a thread), and the API or its probes."""
        roles = set(self.settings.serve.roles)
        if "scheduler" in roles:
            self._start_scheduler(single_process=roles == set(ROLES) and self._ownership.everything)
        if "ingest" in roles:
            if self._ownership.everything:
                self._start_ingest()
            else:  # a standby waits for the lease without holding up the API's health answers
                self._threads.append(_Started(threading.Thread(target=self._take_partition, name="partition",
                                                               daemon=True)))
        self._watch_dependencies()
        self._start_api(full="api" in roles)

    def _watch_dependencies(self) -> None:
        """Probe the records database, the telemetry store and (once ingesting) the broker every few seconds:
        /healthz, /readyz, facmon_dependency_up and own alarms (facmon/dependencies.py)."""
        if self.dependencies is None:
            return
        watch = dependency_watch(self.dependencies, self.db, self.bus, self.clock, self.settings.partition.name,
                                 timedelta(seconds=self.settings.collector.lag_threshold_s))
        watch.start()
        self._threads.append(watch)

    @property
    def _ownership(self) -> Ownership:
        return Ownership.of(self.settings.partition)

    def _take_partition(self) -> None:
        self.partition = PartitionLease.of(self.db, self.settings.partition)
        lease = self.partition.acquire(self._stopping)
        if lease is None:
            return  # stopped while standing by
        self.rules.fence = lease
        self.partition.start_renewing(self._lose_partition)
        try:
            self._start_ingest()
        except Exception:
            log.exception("partition %s: could not start", self.partition.name)
            self._lose_partition("could not start the partition's ingest")

    def _lose_partition(self, reason: str) -> None:
        """Another instance owns the partition now: stop taking messages at once and end the process (it
        restarts as a standby); what was acknowledged is in the spool the successor reads."""
        self.lost = reason
        if self._consumer is not None:
            self._consumer.stop()
        self.on_lost()

    def _start_ingest(self) -> None:
        ownership = self._ownership
        sites, assets = owned_registry(self.db, ownership)
        # The registry gives the engine asset attributes (`where`), report intervals (`stale()`), the
        # members of each site (site rules) and the sites' zones: only this partition's, so it never judges
        # another partition's devices silent.
        self.rules.engine.register(assets, sites)
        # Continue the rule timers of the last run (the spool replays the readings after that checkpoint);
        # follow the collector, devices, work orders.
        self.rules.restore()
        for topic in ("collector.status", "device.status", "workorder."):
            self.bus.subscribe(self.rules.on_event, topic)
        ticking = Periodic("rules-tick", max(self.clock.wall_seconds(RULES_TICK_S), 0.25), self.rules.tick)
        # Reload the rules when a configured rule file changes (same path as POST /rules/reload).
        watcher = RuleFileWatcher(self.settings.rules.files, self.rules.reload)
        parts: list[Any] = [ticking, watcher]
        if not ownership.everything:
            parts.append(Periodic("partition-sites", self.settings.partition.refresh_s, self._refresh_sites))
        for part in parts:
            part.start()
        self._threads += parts
        # Spool consumers first, then MQTT (acknowledged after the spool sync).
        self.ingest.checkpoint_rules_with(self.rules.checkpoint, RULES_CHECKPOINT_S)
        self.ingest.start()
        mqtt = self.settings.mqtt
        if not ownership.everything:  # the partition's own session: its standby takes it over
            mqtt = mqtt.model_copy(update={"client_id": f"{mqtt.client_id}-{self.settings.partition.name}"})
        self._consumer = MqttConsumer(mqtt, self.ingest.receive_many, self.ingest.connection_changed)
        self._consumer.set_sites(None if ownership.everything else [site.id for site in sites])
        self.ingest.attach(self._consumer.ack_many, self._consumer.publish)
        self._consumer.start()  # a broker that is down is retried in the background
        if self.dependencies is not None:
            self.dependencies.add(BROKER, self._consumer.probe)

    def _refresh_sites(self) -> None:
        """Sites added to the registry since the start: their devices are judged and subscribed. (A site
        moved away is forgotten at the next start: moving sites is a restart, docs/scaling.md.)"""
        sites, assets = owned_registry(self.db, self._ownership)
        self.rules.engine.register(assets, sites)
        if self._consumer is not None:
            self._consumer.set_sites([site.id for site in sites])

    def _start_scheduler(self, single_process: bool) -> None:
        """The once-per-deployment work; with several processes, under the lease ``scheduler``."""
        if single_process:
            self._run_scheduler()
            return
        scheduler = PartitionLease(self.db, SCHEDULER_LEASE, Ownership(), self.settings.partition.lease_s)

        def take() -> None:
            if scheduler.acquire(self._stopping) is None:
                return
            self._scheduler = scheduler
            scheduler.start_renewing(self._lose_scheduler)
            self._run_scheduler()

        self._threads.append(_Started(threading.Thread(target=take, name="scheduler-lease", daemon=True)))

    def _lose_scheduler(self, reason: str) -> None:
        self.lost = f"scheduler: {reason}"
        self.on_lost()

    def _run_scheduler(self) -> None:
        forecasting = Periodic("predictor", self.clock.wall_seconds(self.settings.predictor.interval_s),
                               self.forecast_and_plan)
        # Emergency orders start their plan; late plan steps escalate.
        self.bus.subscribe(self.emergency.on_event, "workorder.")
        late_steps = Periodic("emergency-late",
                              max(self.clock.wall_seconds(self.settings.emergency.late_check_s), 0.25),
                              self.emergency.escalate_late)
        coverage = CoverageWatch(self.db, timedelta(seconds=self.settings.partition.lease_s),
                                 lambda kind, alarm: self.bus.publish(f"alarm.{kind}", alarm_json(alarm)))
        parts: list[Any] = [forecasting, self.training_task(), late_steps, *self.inspection_tasks(),
                            *self.planning_tasks(),
                            Periodic("partition-coverage", self.settings.partition.refresh_s, coverage.check)]
        if self.notifier is not None:  # outbound webhooks: queue bus events, send and retry on a thread
            self.notifier.attach(self.bus)
            parts.append(Periodic("webhooks", self.settings.notify.send_interval_s, self.notifier.run_once))
        if self.sla is not None:
            parts.append(Periodic("sla-watch", SLA_CHECK_S, self.sla.run_once))
        for part in parts:
            part.start()
        self._threads += parts

    def training_task(self) -> Periodic:
        """The RUL models retrain every ``predictor.train_interval_s`` on the fleet history (a kind with too few
        failures keeps its prior); the summary, with the observed interval coverage, is logged."""
        settings = self.settings.predictor
        history = timedelta(days=settings.train_history_days)
        return Periodic("predictor-train", self.clock.wall_seconds(settings.train_interval_s),
                        lambda: log.info("retrained: %s", train_all(self.db, self.store, self.clock.now(), history)))

    def inspection_tasks(self) -> list[Periodic]:
        """Rounds generated ahead once a day (from the start), overdue rounds marked missed."""
        if self.inspections is None:
            return []
        rounds, settings = self.inspections, self.settings.inspections
        horizon = timedelta(days=settings.horizon_days)
        return [Periodic("inspections-plan", self.clock.wall_seconds(ROUNDS_PLAN_S),
                         lambda: rounds.generate(horizon), first_after_s=0),
                Periodic("inspections-missed", self.clock.wall_seconds(settings.missed_check_s), rounds.mark_missed)]

    def forecast_and_plan(self) -> None:
        """New forecasts, then a plan that follows them (moved, dropped or new planned orders)."""
        self.predictor.run_once()
        if self.planning is not None and self.settings.planner.enabled:
            self.planning.replan()

    def planning_tasks(self) -> list[Periodic]:
        """A plan at start (calendar and regulatory work need no forecast) and then once a day."""
        if self.planning is None or not self.settings.planner.enabled:
            return []
        return [Periodic("planner", self.clock.wall_seconds(REPLAN_S), self.planning.replan, first_after_s=0)]

    def stop(self) -> None:
        """Stop receiving first, then flush and stop the rest, so nothing accepted is dropped; the last rules
        checkpoint is saved with the final flush; the leases are released so standbys take over at once."""
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.stop()
        if self._ingest is not None:
            self._ingest.stop()  # commit, let the consumers catch up, checkpoint the rules, close the spool
        for part in reversed(self._threads):
            part.stop()
        if self._server is not None and self._api_thread is not None:
            self.bus.publish(STOPPING, {})
            self._server.should_exit = True
            self._api_thread.join(timeout=5)
        for lease in (self.partition, self._scheduler):
            if lease is not None:
                lease.release()
        if self.notifier is not None:
            self.notifier.close()
        self.store.close()
        self.db.dispose()

    def wait_until_drained(self, timeout_s: float = 10.0) -> bool:
        return self._ingest is None or self._ingest.wait_until_drained(timeout_s)

    def stats(self) -> dict[str, Any]:
        partition = {"name": self.settings.partition.name,
                     "state": "active" if self._ingest is not None else "standby",
                     "epoch": self.partition.lease.epoch if self.partition and self.partition.lease else None}
        if self._ingest is None:
            return {"partition": partition, "rules": self.rules.stats(), "broker_connected": False}
        ingest = self._ingest
        return {"partition": partition, "collector": ingest.stats.as_dict(), "rules": self.rules.stats(),
                "broker_connected": self._consumer.connected if self._consumer else False,
                "spool": {"backlog": ingest.spool.backlog(), "backlog_age_s": ingest.backlog_age_s(),
                          "bytes": ingest.spool.size_bytes()}}

    def metrics(self) -> bytes:
        """The collector's Prometheus exposition (empty before this process ingests: a standby) and
        ``facmon_dependency_up``."""
        collector = b"" if self._ingest is None else self._ingest.metrics.exposition()
        return collector + (b"" if self.dependencies is None else dependency_exposition(self.dependencies))

    def new_decoder(self) -> Decoder:
        """A fresh Decoder with the configured limits (for dead-letter reprocessing)."""
        return build_decoder(AssetRegistry(self.db.assets.list), self.settings.collector, self.clock,
                             reprocessing=True)

    def _start_api(self, full: bool = True) -> None:
        """The API and console; a process without the api role serves only /healthz and /metrics (probes)."""
        api = self.settings.api
        services = Services(
            db=self.db, store=self.store, book=self.book, rules=self.rules, bus=self.bus, clock=self.clock,
            stats=self.stats, time_zone=self.settings.time_zone,
            # Sign-in runs on wall time even under the demo's accelerated clock: a session lasts real hours.
            auth=self.settings.auth, accounts=Accounts(self.db, WallClock(), policy_of(self.settings.auth)),
            cors_origins=tuple(api.cors_origins),
            decoder=self.new_decoder,  # dead-letter reprocessing
            metrics=self.metrics,  # GET /metrics
            health=self.dependencies.report if self.dependencies is not None else None,  # /healthz, /readyz
            notifier=self.notifier,
            complaints=ComplaintDesk(self.db, self.book, self.bus, self.clock,
                                     respond_due=self.sla.policy.respond_due if self.sla is not None else None),
            notices=NoticeBoard(self.db, self.bus, self.clock),
            emergency=self.emergency,
            attachments=Attachments(self.db, self.book, open_blob_store(self.settings.attachments), self.clock,
                                    self.settings.attachments.max_bytes),
            sla_policy=self.sla.policy if self.sla is not None else None,
            dispatch=self.dispatch,
            inspections=self.inspections,
            planning=self.planning,
        )
        # Open console event streams never end by themselves: bound the wait for them at shutdown.
        app = create_app(services) if full else create_probe_app(services)
        config = uvicorn.Config(app, host=api.host, port=api.port, log_level="warning",
                                timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._api_thread = threading.Thread(target=self._server.run, name="api", daemon=True)
        self._api_thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._api_thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self._server.started:
            raise ServiceUnavailable(f"the API could not listen on {api.host}:{api.port} (port in use?)")


def build_runtime(settings: Settings, clock: Clock) -> Runtime:
    """Open the stores, migrate the database and wire the parts (nothing runs until ``start``)."""
    bus = EventBus()
    db = Database(settings.database.url)
    wait_for_database(db)  # PostgreSQL down for a moment at start: wait, do not exit
    db.upgrade()
    store = open_telemetry_store(settings.telemetry)  # InfluxDB may be down: its writer retries
    policy = load_policy(settings.sla.policy_file)
    book = WorkOrderBook(db, bus, clock, deadline=policy.first_due)
    dispatch = DispatchService(db, PeopleRecords(db), book, clock)
    book.add_check(dispatch.check)  # no order goes to someone without the skill, on any path
    rules = RulesService(configured_rules(settings), db, book, bus, clock,
                         source=lambda: configured_rules(settings),  # reload from the files
                         time_zone=parse_zone(settings.time_zone),
                         silence=timedelta(seconds=settings.rules.portfolio_silence_s))
    predictor = Predictor(store, db, bus, clock, history=timedelta(days=settings.predictor.history_days))
    collector = settings.collector

    def make_ingest() -> Ingest:
        spool = Spool(collector.spool_dir, [STORE, RULES], collector.spool_max_bytes, collector.spool_segment_bytes)
        decoder = build_decoder(AssetRegistry(db.assets.list), collector, clock)
        return Ingest(decoder, spool, store, db.dead_letters, rules.process, clock, collector, bus)

    emergency = EmergencyRunner(configured_plans(settings.emergency.plans_file), db, book, bus, clock)
    notifier = build_notifier(settings.notify, db, clock, recipients=dispatch.recipients)
    sla = SlaWatch(db=db, bus=bus, policy=policy, clock=clock)
    inspections = InspectionRounds(db, book, clock, load_templates(settings.inspections.templates))
    planning = planning_service(db, book, clock, dispatch.people, policy, settings.planner,
                                notices=NoticeBoard(db, bus, clock))
    return Runtime(settings, clock, bus, db, store, book, rules, predictor, make_ingest, emergency=emergency,
                   dispatch=dispatch, notifier=notifier, sla=sla, inspections=inspections, planning=planning,
                   dependencies=watched_dependencies(db, store, clock))
