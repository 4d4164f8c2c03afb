"""When planned work may run: a site's working hours and holidays, minus the quiet hours of resident work.

The site calendars are the service desk's business calendars (workorders/sla.yaml and its site overrides:
a site that works weekends gives them hours there; holidays are closed), so the planner and the SLA clocks
agree on when a site works. Quiet hours (pm_rules.yaml ``quiet``) keep work that takes something away from
residents out of their peak: no water shut-off while everyone showers or cooks, no elevator out of service
at rush hour. The planner places whole days, so a day is allowed for a task when its allowed minutes hold
the task's hours; the technician picks the start time within them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from core.domain import AssetKind
from predictor.planning.problem import SitePolicy
from predictor.planning.triggers import Occurrence
from workorders.calendar import Span
from workorders.sla import SlaPolicy


def allowed_minutes(policy: SitePolicy, kind: AssetKind, affects_residents: bool, day: date) -> int:
    """Working minutes of ``day`` at the site, without the quiet spans when the work affects residents."""
    calendar = policy.calendar
    if day in calendar.holidays:
        return 0
    spans = calendar.hours[day.weekday()]
    quiet = policy.quiet.get(kind, ()) if affects_residents else ()
    return sum(_minutes_outside(span, quiet) for span in spans)


def _minutes_outside(span: Span, quiet: tuple[Span, ...]) -> int:
    start, end = span
    blocked = sum(max(0, min(end, q_end) - max(start, q_start)) for q_start, q_end in _merged(quiet))
    return end - start - blocked


def _merged(spans: Iterable[Span]) -> list[Span]:
    """Overlapping quiet spans merged, so a minute is never subtracted twice."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def allowed_days(occurrence: Occurrence, policy: SitePolicy,
                 memo: dict[tuple[object, ...], int] | None = None) -> list[date]:
    """The days from the occurrence's earliest to its latest on which its hours fit the allowed window.
    ``memo`` keeps the allowed minutes per (policy, kind, resident work, day) across calls."""
    rule, need = occurrence.rule, occurrence.hours * 60
    memo = {} if memo is None else memo
    days, day = [], occurrence.earliest
    while day <= occurrence.latest:
        key = (id(policy), rule.kind, rule.affects_residents, day)
        minutes = memo.get(key)
        if minutes is None:
            minutes = memo[key] = allowed_minutes(policy, rule.kind, rule.affects_residents, day)
        if minutes >= need:
            days.append(day)
        day += timedelta(days=1)
    return days


def site_policies(sla: SlaPolicy, quiet: Mapping[AssetKind, tuple[Span, ...]],
                  site_ids: Iterable[str]) -> tuple[SitePolicy, dict[str, SitePolicy]]:
    """The default site policy and each site's own, from the service desk's SLA calendars."""
    default = SitePolicy(sla.calendar, dict(quiet))
    return default, {site_id: SitePolicy(sla.calendar_for(site_id), dict(quiet)) for site_id in site_ids}
