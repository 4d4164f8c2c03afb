"""SLA clocks: the policy (targets per order kind and priority, overridable per site) and the pure
``sla_status`` that says, for each target of an order, when it is due and how it stands.

Every clock starts when the order is opened and stops at its milestone (accept -> accepted_at, arrive ->
on_site_at, restore -> restored_at, complete -> completed_at). It runs on the site's business calendar or
around the clock, as the policy says, and pauses only in the statuses the policy names for that target
(e.g. waiting for the resident pauses ``complete``). The policy file is read by ``workorders.slafile``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.domain import (
    WaitingFor,
    WorkOrder,
    WorkOrderAction,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from workorders.calendar import AROUND_THE_CLOCK, BusinessCalendar, Calendar

AT_RISK = 0.8  # the share of a target's time after which it is at risk (and escalated)
_ZERO = timedelta(0)


class TargetName(enum.StrEnum):
    ACCEPT = "accept"
    ARRIVE = "arrive"  # on site
    RESTORE = "restore"  # service back (passenger out, water flowing)
    COMPLETE = "complete"
    RESPOND = "respond"  # a complaint's first response (used by the complaints desk, not by work orders)


MILESTONES: dict[TargetName, str] = {TargetName.ACCEPT: "accepted_at", TargetName.ARRIVE: "on_site_at",
                                     TargetName.RESTORE: "restored_at", TargetName.COMPLETE: "completed_at"}


class ClockKind(enum.StrEnum):
    BUSINESS = "business"
    AROUND_THE_CLOCK = "around_the_clock"


class SlaState(enum.StrEnum):
    RUNNING = "running"
    AT_RISK = "at_risk"  # at least 80 % of the time used, milestone not reached
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    STOPPED = "stopped"  # the order ended (cancelled) in time, without reaching the milestone


@dataclass(frozen=True, slots=True)
class Pause:
    """A status that pauses a clock; for ``waiting``, optionally only waiting for one thing."""

    status: WorkOrderStatus
    waiting_for: WaitingFor | None = None

    def covers(self, status: WorkOrderStatus, waiting_for: WaitingFor | None) -> bool:
        return status is self.status and self.waiting_for in (None, waiting_for)

    def __str__(self) -> str:
        return self.status.value if self.waiting_for is None else f"{self.status.value}:{self.waiting_for.value}"


@dataclass(frozen=True, slots=True)
class Target:
    """Time allowed to reach a milestone: ``time`` plus ``working_days`` (days of the calendar it runs on)."""

    name: TargetName
    time: timedelta = _ZERO
    working_days: float = 0.0
    paused_by: frozenset[Pause] = frozenset()

    def limit(self, calendar: Calendar) -> timedelta:
        return self.time + calendar.day_length * self.working_days


@dataclass(frozen=True, slots=True)
class Terms:
    """What applies to one order: the clock and the targets."""

    clock: ClockKind
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class TermsRule:
    """One entry of the policy file: applies to orders of ``kind`` and ``priority`` (None: any); sets the
    clock if given and each named target (None removes a target)."""

    kind: WorkOrderKind | None = None
    priority: WorkOrderPriority | None = None
    clock: ClockKind | None = None
    targets: Mapping[TargetName, Target | None] = field(default_factory=dict)

    def applies(self, kind: WorkOrderKind, priority: WorkOrderPriority) -> bool:
        return self.kind in (None, kind) and self.priority in (None, priority)

    @property
    def specificity(self) -> tuple[int, bool]:
        """Rules apply from the least specific up, so the most specific has the last word."""
        return (self.kind is not None) + (self.priority is not None), self.kind is not None


@dataclass(frozen=True, slots=True)
class SiteTerms:
    """A site's overrides: its own calendar and rules applied after the policy's."""

    calendar: BusinessCalendar | None = None
    rules: tuple[TermsRule, ...] = ()
    complaints: TermsRule | None = None


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    calendar: BusinessCalendar
    rules: tuple[TermsRule, ...]
    complaints: TermsRule  # the target ``respond`` and its clock
    sites: Mapping[str, SiteTerms] = field(default_factory=dict)

    def calendar_for(self, site_id: str) -> BusinessCalendar:
        site = self.sites.get(site_id)
        return site.calendar if site is not None and site.calendar is not None else self.calendar

    def terms_for(self, kind: WorkOrderKind, priority: WorkOrderPriority, site_id: str) -> Terms:
        site = self.sites.get(site_id, SiteTerms())
        rules = [rule for rule in (*self.rules, *site.rules) if rule.applies(kind, priority)]
        # Stable sort: among equally specific rules the site's (listed later) win over the policy's.
        return _merge(sorted(rules, key=lambda rule: rule.specificity))

    def clock_for(self, terms: Terms, site_id: str) -> Calendar:
        return AROUND_THE_CLOCK if terms.clock is ClockKind.AROUND_THE_CLOCK else self.calendar_for(site_id)

    def status(self, order: WorkOrder, history: Sequence[WorkOrderEvent], now: datetime) -> list[TargetStatus]:
        """``sla_status`` with the terms and calendar of the order's kind, priority and site."""
        terms = self.terms_for(order.kind, order.priority, order.site_id)
        return sla_status(order, history, terms, self.clock_for(terms, order.site_id), now)

    def first_due(self, kind: WorkOrderKind, priority: WorkOrderPriority, site_id: str,
                  opened_at: datetime) -> datetime:
        """The first deadline of a new order (``WorkOrderBook``'s ``deadline``)."""
        terms = self.terms_for(kind, priority, site_id)
        calendar = self.clock_for(terms, site_id)
        return min(calendar.add(opened_at, target.limit(calendar)) for target in terms.targets)

    def respond_due(self, site_id: str, opened_at: datetime) -> datetime:
        """When the first response to a complaint registered at ``opened_at`` is due."""
        site = self.sites.get(site_id, SiteTerms())
        terms = _merge([self.complaints, *([site.complaints] if site.complaints else [])])
        calendar = self.clock_for(terms, site_id)
        return min(calendar.add(opened_at, target.limit(calendar)) for target in terms.targets)


def _merge(rules: Sequence[TermsRule]) -> Terms:
    clock = ClockKind.BUSINESS
    targets: dict[TargetName, Target | None] = {}
    for rule in rules:
        clock = rule.clock or clock
        targets.update(rule.targets)
    return Terms(clock, tuple(target for name in TargetName if (target := targets.get(name)) is not None))


@dataclass(frozen=True, slots=True)
class TargetStatus:
    target: TargetName
    limit: timedelta  # the working time allowed
    due_at: datetime  # when time is up; while paused: when it would be up if the clock restarted now
    elapsed: timedelta  # working time used, pauses left out
    fraction: float  # elapsed / limit
    state: SlaState
    met_at: datetime | None  # when the milestone was reached (late or not)


Interval = tuple[datetime, datetime | None]  # None: still going on


def pauses(history: Sequence[WorkOrderEvent], paused_by: frozenset[Pause]) -> list[Interval]:
    """The stretches of ``history`` spent in a status that ``paused_by`` names, oldest first."""
    found: list[Interval] = []
    since: datetime | None = None
    for event in history:
        if event.action is not WorkOrderAction.TRANSITION:
            continue
        waiting_for = _waiting_for(event.data.get("waiting_for"))
        pausing = any(pause.covers(event.to_status, waiting_for) for pause in paused_by)
        if pausing and since is None:
            since = event.at
        elif not pausing and since is not None:
            found.append((since, event.at))
            since = None
    if since is not None:
        found.append((since, None))
    return found


def _waiting_for(value: object) -> WaitingFor | None:
    """What an event says the order waits for (the book records it on the step to ``waiting``)."""
    return next((reason for reason in WaitingFor if reason.value == value), None)


def sla_status(order: WorkOrder, history: Sequence[WorkOrderEvent], terms: Terms, calendar: Calendar,
               now: datetime) -> list[TargetStatus]:
    """How each target of ``terms`` stands for ``order`` at ``now``; ``calendar`` is the one the clock runs
    on (the site's business calendar, or ``AROUND_THE_CLOCK``)."""
    return [_target_status(order, history, target, calendar, now) for target in terms.targets]


def _target_status(order: WorkOrder, history: Sequence[WorkOrderEvent], target: Target, calendar: Calendar,
                   now: datetime) -> TargetStatus:
    limit = target.limit(calendar)
    met_at: datetime | None = getattr(order, MILESTONES[target.name]) if target.name in MILESTONES else None
    # The clock stops at the milestone, or when the order ended without it (cancelled).
    stop = met_at or (order.closed_at if order.status.is_terminal else None) or now
    stop = min(stop, now)
    stretches = pauses(history, target.paused_by)
    running = _running(order.opened_at, stretches)
    due_at = _due(running, limit, calendar, now)
    elapsed = sum((calendar.elapsed(begin, min(end or stop, stop)) for begin, end in running), _ZERO)
    fraction = elapsed / limit if limit else 1.0
    paused = bool(stretches) and stretches[-1][1] is None
    state: SlaState
    if met_at is not None:
        state = SlaState.MET if met_at <= due_at else SlaState.BREACHED
    elif elapsed >= limit:
        state = SlaState.BREACHED
    elif stop < now:
        state = SlaState.STOPPED
    elif paused:
        state = SlaState.PAUSED
    else:
        state = SlaState.AT_RISK if fraction >= AT_RISK else SlaState.RUNNING
    return TargetStatus(target.name, limit, due_at, elapsed, fraction, state, met_at)


def _running(opened_at: datetime, stretches: Sequence[Interval]) -> list[Interval]:
    """The stretches from ``opened_at`` on in which the clock runs: between the pauses."""
    running: list[Interval] = []
    begin: datetime | None = opened_at
    for since, until in stretches:
        if begin is not None and since > begin:
            running.append((begin, since))
        begin = None if until is None else max(until, opened_at)
    if begin is not None:
        running.append((begin, None))
    return running


def _due(running: Sequence[Interval], limit: timedelta, calendar: Calendar, now: datetime) -> datetime:
    """When ``limit`` of working time is used up over ``running``; if the clock is paused before that,
    when it would be used up were it restarted at ``now``."""
    remaining = limit
    for begin, end in running:
        if end is None:
            return calendar.add(begin, remaining)
        available = calendar.elapsed(begin, end)
        if remaining <= available:
            return calendar.add(begin, remaining)
        remaining -= available
    return calendar.add(now, remaining)
