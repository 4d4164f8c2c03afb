"""Simulated operations (``facmon sim ops``, and a thread of ``facmon demo``): residents call in repairs and
complaints, the desk dispatches, technicians accept, travel, repair and complete, requesters verify, the
desk calls back and closes; inspection rounds are walked; emergency plans are worked.

The driver acts only through the services, as people would (the book, the dispatcher, the complaint desk,
the rounds, the emergency runner), so every check of the real system applies. The random times are the
pure, seeded ``simulators.ops_model``; ``step`` looks at the clock once and does what is due.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.clock import Clock, ManualClock
from core.domain import AssetKind, RequestChannel, Severity, WaitingFor, WorkOrder, WorkOrderKind
from core.domain import WorkOrderPriority as P
from core.domain import WorkOrderSource as Src
from core.domain import WorkOrderStatus as S
from core.errors import Conflict, InvalidRequest, NotFound, TransitionError
from core.events import EventBus
from core.inspections import RoundStatus
from core.settings import Settings
from people.records import PeopleRecords
from people.roster import DEFAULT_ROSTER, load_roster
from simulators.ops_model import JobTimes, OpsRates, job_times, next_arrival, pick, reading, step_done_after
from simulators.portfolio import default_portfolio
from storage.records import Database
from storage.records.inspections import RoundFilter
from storage.records.work_orders import WorkOrderFilter
from workorders.book import Step, WorkOrderBook
from workorders.codes import failure_codes
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import ComplaintCategory, ComplaintStatus
from workorders.dispatcher import DispatchService
from workorders.emergency import configured_plans
from workorders.emergency_runs import EmergencyRunner
from workorders.inspection_templates import load_templates
from workorders.rounds import InspectionRounds
from workorders.slafile import load_policy

log = logging.getLogger(__name__)
RETRY = timedelta(minutes=15)  # a step refused (nobody on shift, changed meanwhile) is tried again after this
ROUND_LEAD = timedelta(hours=10)  # a round is walked on its day, up to this long before it is due
# The emergencies the driver raises itself, as the rules would: the rule, its asset kind, the title.
EMERGENCIES = {AssetKind.ELEVATOR: ("elevator_entrapment", "Passengers trapped in {asset}"),
               AssetKind.PUMP: ("pump_burst_pipe", "Burst pipe at {asset}")}
ROUND_SKILL = {AssetKind.ELEVATOR: "elevator", AssetKind.PUMP: "plumber", AssetKind.LIGHTING: "electrician"}
PROBLEMS = {AssetKind.ELEVATOR: "The lift door keeps reopening", AssetKind.PUMP: "Low water pressure upstairs",
            AssetKind.LIGHTING: "Stairwell lights are out"}
_COMPLAINT_STEPS = (ComplaintStatus.INVESTIGATING, ComplaintStatus.ANSWERED, ComplaintStatus.FOLLOWED_UP,
                    ComplaintStatus.CLOSED)


@dataclass
class OpsCounts:
    requests: int = 0
    complaints: int = 0
    emergencies: int = 0
    rounds_completed: int = 0
    items_failed: int = 0
    plans_worked: int = 0  # emergency runs with every step checked off
    follow_ups: int = 0  # orders the desk called back
    closed: int = 0
    cancelled: int = 0


@dataclass
class _Job:
    times: JobTimes
    next_at: datetime
    waited: bool = False


@dataclass
class OpsDriver:
    """One simulated service desk and its technicians over ``db``; call ``step`` as the clock moves."""

    db: Database
    book: WorkOrderBook
    dispatch: DispatchService
    rounds: InspectionRounds
    runner: EmergencyRunner
    complaints: ComplaintDesk
    clock: Clock
    rates: OpsRates = field(default_factory=OpsRates)
    seed: int = 0
    desk: str = "desk"
    supervisor: str = "sue"
    counts: OpsCounts = field(default_factory=OpsCounts)

    def __post_init__(self) -> None:
        # One generator per stream, so arrivals do not shift when the jobs draw more or less.
        self._rng = {name: random.Random(f"{self.seed}:{name}") for name in ("request", "emergency", "job", "round")}
        now = self.clock.now()
        self._next_request = next_arrival(self._rng["request"], self.rates.requests_per_day, now)
        self._next_emergency = next_arrival(self._rng["emergency"], self.rates.emergencies_per_day, now, False)
        self._jobs: dict[int, _Job] = {}
        self._complaints: dict[int, datetime] = {}
        self._walking: dict[int, datetime] = {}  # round id -> when it is completed
        self._plan_times: dict[tuple[int, int], datetime] = {}
        self._planned_day: object = None
        self._assets = self.db.assets.list()

    def step(self) -> None:
        """Do everything due at the clock's now."""
        now = self.clock.now()
        if now.date() != self._planned_day:
            self.rounds.generate(timedelta(days=2))  # stored once; the runtime may have done it already
            self._planned_day = now.date()
        while self._next_request is not None and self._next_request <= now:
            self._resident_calls()
            self._next_request = next_arrival(self._rng["request"], self.rates.requests_per_day, self._next_request)
        while self._next_emergency is not None and self._next_emergency <= now:
            self._emergency()
            self._next_emergency = next_arrival(self._rng["emergency"], self.rates.emergencies_per_day,
                                                self._next_emergency, False)
        self._work_orders(now)
        self._emergency_plans(now)
        self._complaint_desk(now)
        self._inspection_rounds(now)

    # --- arrivals ------------------------------------------------------------------------------------

    def _resident_calls(self) -> None:
        rng = self._rng["request"]
        asset = self._assets[rng.randrange(len(self._assets))]
        n = rng.randrange(1, 500)
        resident, phone = f"resident-{n}", f"+86 21 5551 {n:04d}"
        by_phone = rng.random() < self.rates.phone_share
        channel = RequestChannel.PHONE if by_phone else pick(rng, (RequestChannel.WEB, RequestChannel.MOBILE))
        problem = PROBLEMS.get(asset.kind, "Something is broken")
        self.book.open(WorkOrderKind.REQUEST, P.URGENT if rng.random() < 0.2 else P.NORMAL, problem, asset.site_id,
                       asset.id, f"{problem} ({asset.name}).", actor=self.desk if by_phone else resident,
                       source=Src.REQUEST, channel=RequestChannel(channel), requester=resident, caller_phone=phone,
                       address=f"Flat {rng.randrange(1, 28)}{pick(rng, tuple('ABCD'))}")
        self.counts.requests += 1
        if rng.random() < self.rates.complaint_share:
            category = ComplaintCategory(pick(rng, [c.value for c in ComplaintCategory]))
            complaint = self.complaints.register(asset.site_id, RequestChannel(channel), category, resident,
                                                 f"Not happy with the service ({category.value}).", self.desk,
                                                 phone=phone)
            self._complaints[complaint.id] = self.clock.now() + self._delay(120)
            self.counts.complaints += 1

    def _emergency(self) -> None:
        rng = self._rng["emergency"]
        candidates = [a for a in self._assets if a.kind in EMERGENCIES and
                      self.runner.plans.for_rule(EMERGENCIES[a.kind][0]) is not None]
        if not candidates:
            return
        asset = candidates[rng.randrange(len(candidates))]
        rule, title = EMERGENCIES[asset.kind]
        now = self.clock.now()
        alarm, _ = self.db.alarms.raise_alarm(rule, asset.id, asset.site_id, Severity.CRITICAL,
                                              title.format(asset=asset.name), now)
        order, created = self.book.open(WorkOrderKind.EMERGENCY, P.EMERGENCY, title.format(asset=asset.name),
                                        asset.site_id, asset.id, "Raised by the alarm; the supervisor verifies it.",
                                        alarm_id=alarm.id, actor="rules")
        if created:
            self.db.alarms.link_work_order(alarm.id, order.id)
            self.runner.start_for_order(order)  # the runtime's bus subscription does it too; it starts once
            self.counts.emergencies += 1

    # --- the loop ------------------------------------------------------------------------------------

    def _work_orders(self, now: datetime) -> None:
        orders, _ = self.db.work_orders.page(WorkOrderFilter(open_only=True), limit=1000)
        for order in orders:
            if order.id not in self._jobs:
                cancellable = order.requester is not None and order.source is Src.REQUEST
                times = job_times(self._rng["job"], order.priority.value, self.rates, cancellable)
                self._jobs[order.id] = _Job(times, now + times.dispatch)
        for order in sorted(orders, key=lambda o: o.id):
            job = self._jobs[order.id]
            if job.next_at > now or self._not_yet(order, now):
                continue
            try:
                job.next_at = now + self._advance(order, job)
            except (Conflict, InvalidRequest, NotFound, TransitionError) as refused:
                log.debug("ops: work order %s: %s", order.id, refused)
                job.next_at = now + RETRY

    @staticmethod
    def _not_yet(order: WorkOrder, now: datetime) -> bool:
        """Planned work waits for its planned day (the order is due at the day's end; the plan may move it)."""
        return order.source is Src.PLANNED and order.status is S.REQUESTED and order.due_at - timedelta(days=1) > now

    def _advance(self, order: WorkOrder, job: _Job) -> timedelta:
        """Take the order's next step; how long until the one after."""
        t, oid, status = job.times, order.id, order.status
        if status is S.REQUESTED:
            if t.cancel:
                self.book.transition(oid, Step(S.CANCELLED, order.requester or self.desk,
                                               note="withdrawn by the resident"))
                self.counts.cancelled += 1
                return t.accept
            planned = order.assignee if order.source is Src.PLANNED else None  # the plan's technician
            try:
                self.dispatch.dispatch(oid, self.desk, technician=planned)
            except InvalidRequest:
                if planned is None:
                    raise
                self.dispatch.dispatch(oid, self.desk)  # not qualified today: the best one available
            return t.accept
        tech = order.assignee or self.desk
        if status is S.DISPATCHED:
            self.book.transition(oid, Step(S.ACCEPTED, tech))
            return t.travel
        if status is S.ACCEPTED:
            self.book.transition(oid, Step(S.ON_SITE, tech))
            return t.start
        if status is S.ON_SITE:
            self.book.transition(oid, Step(S.IN_PROGRESS, tech))
            return t.repair / 2 if t.wait is not None else t.repair
        if status is S.IN_PROGRESS and t.wait is not None and not job.waited:
            job.waited = True
            waits_for = WaitingFor.RESIDENT if order.requester and t.code_pick < 0.3 else WaitingFor.PARTS
            self.book.transition(oid, Step(S.WAITING, tech, waiting_for=waits_for))
            return t.wait
        if status is S.WAITING:
            self.book.transition(oid, Step(S.IN_PROGRESS, tech))
            return t.repair / 2
        if status is S.IN_PROGRESS:
            self._complete(order, t)
            return t.verify
        if status is S.COMPLETED:
            run = self.db.emergency.for_work_order(oid)
            if run is not None and any(s.done_at is None for s in run.steps):
                return RETRY  # the supervisor verifies once the plan's last step is logged
            self.book.transition(oid, Step(S.VERIFIED, order.requester or self.supervisor))
            return t.follow_up if order.requester else t.close
        if status is S.VERIFIED and order.requester:
            self.book.transition(oid, Step(S.FOLLOWED_UP, self.desk, note="called back", satisfaction=t.satisfaction))
            self.counts.follow_ups += 1
            return t.close
        self.book.transition(oid, Step(S.CLOSED, self.desk if order.requester else self.supervisor))
        self.counts.closed += 1
        return t.close

    def _complete(self, order: WorkOrder, t: JobTimes) -> None:
        asset = None if order.asset_id is None else self.db.assets.find(order.asset_id)
        codes = list(failure_codes(asset.kind if asset is not None else None).items())
        code, label = codes[int(t.code_pick * len(codes))]
        hours = round((t.repair / 2 if t.wait else t.repair).total_seconds() / 3600 * (2 if t.wait else 1), 2)
        self.book.transition(order.id, Step(S.COMPLETED, order.assignee or self.desk, failure_code=code,
                                            cause=f"{label}: worn or faulty", remedy=f"{label}: repaired and tested",
                                            labour_hours=max(hours, 0.1)))

    # --- emergency plans, complaints, rounds ---------------------------------------------------------

    def _emergency_plans(self, now: datetime) -> None:
        for run in self.db.emergency.list(active=True):
            if run.drill or run.work_order_id is None:
                continue
            holder = self.db.work_orders.get(run.work_order_id).assignee
            for step in run.steps:
                if step.done_at is not None:
                    continue
                key = (run.id, step.position)
                if key not in self._plan_times:
                    self._plan_times[key] = run.started_at + step_done_after(
                        self._rng["job"], step.due_at - run.started_at, self.rates.pace)
                if self._plan_times[key] > now:
                    continue
                actor = {"technician": holder or "on-call", "supervisor": self.supervisor}.get(step.role, self.desk)
                try:
                    run = self.runner.check_off(run.id, step.position, actor, "done")
                except (Conflict, InvalidRequest) as refused:
                    log.debug("ops: plan %s step %s: %s", run.id, step.position, refused)
                    continue
                if all(s.done_at is not None for s in run.steps):
                    self.counts.plans_worked += 1

    def _complaint_desk(self, now: datetime) -> None:
        for complaint_id, due in sorted(self._complaints.items()):
            if due > now:
                continue
            complaint = self.complaints.get(complaint_id)
            following = [s for s in _COMPLAINT_STEPS if _COMPLAINT_STEPS.index(s) > _index(complaint.status)]
            if not following:
                del self._complaints[complaint_id]
                continue
            to = following[0]
            score = self._rng["job"].choice((2, 3, 4, 4, 5)) if to is ComplaintStatus.FOLLOWED_UP else None
            note = {ComplaintStatus.ANSWERED: "We apologised and explained what we changed.",
                    ComplaintStatus.FOLLOWED_UP: "called back"}.get(to, "")
            self.complaints.transition(complaint_id, to, self.desk, note=note, satisfaction=score)
            self._complaints[complaint_id] = now + self._delay(240)

    def _inspection_rounds(self, now: datetime) -> None:
        for round_id, finish in sorted(self._walking.items()):
            if finish <= now:
                self.rounds.complete(round_id, self.rounds_of(round_id))
                self.counts.rounds_completed += 1
                del self._walking[round_id]
        due = self.db.inspections.list(RoundFilter(statuses=[RoundStatus.SCHEDULED], since=now - timedelta(hours=4),
                                                   until=now + ROUND_LEAD))
        for round_ in due:
            kind = self.rounds.templates[round_.template].asset_kind
            technician = self._technician(ROUND_SKILL.get(kind, "general"))
            self.rounds.start(round_.id, technician)
            rng = self._rng["round"]
            for item in self.rounds.items(round_):
                fail = rng.random() < self.rates.item_fail_rate
                value = reading(rng, item.minimum, item.maximum, fail) if item.is_measurement else None
                passed = None if value is not None else not fail
                result = self.rounds.record(round_.id, item.id, technician, passed=passed, value=value)
                self.counts.items_failed += 0 if result.passed else 1
            self._walking[round_.id] = now + self._delay(40)

    def rounds_of(self, round_id: int) -> str:
        """Who walks a round (its assignee, set when started)."""
        return self.db.inspections.get(round_id).assignee or self.desk

    def _technician(self, skill: str) -> str:
        for tech in sorted(self.dispatch.people.technicians.list(), key=lambda t: t.user_id):
            if skill in {s.value for s in tech.skills}:
                return tech.user_id
        return self.desk

    def _delay(self, median_min: float) -> timedelta:
        return timedelta(minutes=median_min * self.rates.pace * self._rng["job"].uniform(0.5, 1.5))


def _index(status: ComplaintStatus) -> int:
    return _COMPLAINT_STEPS.index(status) if status in _COMPLAINT_STEPS else -1


def simulate(driver: OpsDriver, clock: ManualClock, days: float, tick: timedelta = timedelta(minutes=10)) -> OpsCounts:
    """Play ``days`` on a manual clock, a step every ``tick``: as fast as the database allows, repeatable."""
    end = clock.now() + timedelta(days=days)
    while clock.now() < end:
        driver.step()
        clock.advance(tick)
    return driver.counts


def build_driver(settings: Settings, clock: Clock, rates: OpsRates | None = None, seed: int = 0,
                 days: float = 30) -> OpsDriver:
    """The services over the configured database (migrated), the default portfolio if it has no assets yet
    and the default roster's shifts for the days played: what ``facmon sim ops`` runs on."""
    bus = EventBus()
    db = Database(settings.database.url)
    db.upgrade()
    if not db.assets.list():
        portfolio = default_portfolio()
        for site in portfolio.sites:
            db.assets.upsert_site(site)
        for asset in portfolio.assets:
            db.assets.upsert_asset(asset)
    policy = load_policy(settings.sla.policy_file)
    book = WorkOrderBook(db, bus, clock, deadline=policy.first_due)
    dispatch = DispatchService(db, PeopleRecords(db), book, clock)
    book.add_check(dispatch.check)
    now = clock.now()
    dispatch.people.install(load_roster(DEFAULT_ROSTER), now.date() - timedelta(days=1),
                            now.date() + timedelta(days=math.ceil(days) + 1), now)
    runner = EmergencyRunner(configured_plans(settings.emergency.plans_file), db, book, bus, clock)
    bus.subscribe(runner.on_event, "workorder.")
    rounds = InspectionRounds(db, book, clock, load_templates(settings.inspections.templates))
    return OpsDriver(db, book, dispatch, rounds, runner, ComplaintDesk(db, book, bus, clock), clock,
                     rates or OpsRates(), seed)
