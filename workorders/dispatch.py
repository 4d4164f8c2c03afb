"""Dispatch, pure: the skill an order needs, who is qualified for it, and who to send, ranked with reasons.

Time comes in as data (``at``); the caller reads the order's asset kinds, the technicians, the shifts
and everyone's open work (``workorders.dispatcher``). The rules, in docs/workorders.md:
- elevator work needs the elevator skill and the elevator certificate, valid on the day; pumps and water
  need a plumber; lighting and power an electrician; a site-level order goes by what it concerns (its
  assets, else the words of its title); everything else needs the ``general`` skill;
- candidates are the qualified technicians, ranked: on shift first (on call next, for emergencies
  outside the shifts), then nearest the site (covers it, same zone, further), then fewest open orders.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.domain import AssetKind, WorkOrder, WorkOrderKind, WorkOrderPriority
from people.model import ELEVATOR_CERTIFICATE, Shift, Skill, Technician
from people.roster import on_call, on_shift

SKILL_OF_KIND: dict[AssetKind, Skill] = {
    AssetKind.ELEVATOR: Skill.ELEVATOR,
    AssetKind.PUMP: Skill.PLUMBER,
    AssetKind.LIGHTING: Skill.ELECTRICIAN,
}
# Words that say what a site-level order is about, tried in this order (a lift is the most specific).
SKILL_WORDS: tuple[tuple[Skill, frozenset[str]], ...] = (
    (Skill.ELEVATOR, frozenset({"elevator", "elevators", "lift", "lifts", "entrapment", "trapped"})),
    (Skill.PLUMBER, frozenset({"water", "pipe", "pipes", "leak", "leaking", "burst", "pump", "pumps", "supply",
                               "flood", "flooding", "drain", "tap"})),
    (Skill.ELECTRICIAN, frozenset({"power", "electric", "electrical", "mains", "light", "lights", "lighting",
                                   "lamp", "lamps", "outage", "blackout"})),
)


@dataclass(frozen=True, slots=True)
class Need:
    """What an order needs of its technician: a skill, and for elevator work the certificate on the day."""

    skill: Skill
    certificate: str | None = None
    why: str = ""  # what the need was read from, for the reasons


@dataclass(frozen=True, slots=True)
class Job:
    """A work order as dispatch sees it: the order and what it needs."""

    order: WorkOrder
    need: Need

    @property
    def emergency(self) -> bool:
        return self.order.priority is WorkOrderPriority.EMERGENCY or self.order.kind is WorkOrderKind.EMERGENCY


def need_of(order: WorkOrder, kinds: Mapping[str, AssetKind]) -> Need:
    """The skill ``order`` needs; ``kinds`` gives the kind of its asset and related assets (by id)."""
    if order.asset_id is not None and order.asset_id in kinds:
        return _need(SKILL_OF_KIND[kinds[order.asset_id]], f"{kinds[order.asset_id].value} {order.asset_id}")
    concerned = {kinds[asset] for asset in order.related_assets if asset in kinds}
    if len(concerned) == 1:
        kind = concerned.pop()
        return _need(SKILL_OF_KIND[kind], f"the site's {kind.value} assets")
    words = set(re.findall(r"[a-z]+", f"{order.title} {order.description}".lower()))
    for skill, vocabulary in SKILL_WORDS:
        found = sorted(words & vocabulary)
        if found:
            return _need(skill, f"the words {', '.join(found)}")
    return Need(Skill.GENERAL, why="no specialist work named")


def _need(skill: Skill, why: str) -> Need:
    return Need(skill, ELEVATOR_CERTIFICATE if skill is Skill.ELEVATOR else None, why)


def job_of(order: WorkOrder, kinds: Mapping[str, AssetKind]) -> Job:
    return Job(order, need_of(order, kinds))


def shortfall(tech: Technician, need: Need, at: datetime) -> str | None:
    """Why ``tech`` may not take work needing ``need`` at ``at`` (None: qualified)."""
    if need.skill not in tech.skills:
        return f"{tech.user_id} lacks the {need.skill.value!r} skill"
    if need.certificate is not None and not tech.certified(need.certificate, at.date()):
        expiry = tech.certificates.get(need.certificate)
        if expiry is None:
            return f"{tech.user_id} holds no {need.certificate!r} certificate"
        return f"{tech.user_id}'s {need.certificate!r} certificate expired on {expiry.isoformat()}"
    return None


def qualified(tech: Technician, job: Job, at: datetime) -> bool:
    return shortfall(tech, job.need, at) is None


class Duty(enum.StrEnum):
    ON_SHIFT = "on shift"
    ON_CALL = "on call"
    OFF_DUTY = "off duty"


class Nearness(enum.IntEnum):
    SITE = 0  # covers the order's site
    ZONE = 1  # works in the zone the site lies in
    FURTHER = 2


@dataclass(frozen=True, slots=True)
class Candidate:
    user_id: str
    duty: Duty
    available: bool  # on shift, or on call for an emergency
    nearness: Nearness
    open_orders: int
    reasons: tuple[str, ...]


def site_zones(site_id: str, technicians: Iterable[Technician]) -> frozenset[str]:
    """The zones ``site_id`` lies in: those of the technicians who name it among their sites."""
    return frozenset(t.zone for t in technicians if t.zone is not None and site_id in t.sites)


def propose(job: Job, technicians: Iterable[Technician], shifts: Iterable[Shift], open_work: Mapping[str, int],
            at: datetime) -> list[Candidate]:
    """The qualified technicians for ``job`` at ``at``, best first; never an unqualified one."""
    technicians, shifts = list(technicians), list(shifts)
    zones = site_zones(job.order.site_id, technicians)
    working, standing_by = on_shift(shifts, at), on_call(shifts, at)
    candidates = [_candidate(job, tech, zones, working, standing_by, open_work.get(tech.user_id, 0))
                  for tech in technicians if qualified(tech, job, at)]
    return sorted(candidates, key=_rank)


def unqualified(job: Job, technicians: Iterable[Technician], at: datetime) -> list[tuple[str, str]]:
    """The technicians left out of ``propose``, each with the reason."""
    return [(tech.user_id, reason) for tech in technicians
            if (reason := shortfall(tech, job.need, at)) is not None]


def _rank(candidate: Candidate) -> tuple[int, int, int, int, str]:
    duty = list(Duty).index(candidate.duty)
    return (not candidate.available, duty, candidate.nearness, candidate.open_orders, candidate.user_id)


def _candidate(job: Job, tech: Technician, zones: frozenset[str], working: set[str], standing_by: set[str],
               open_orders: int) -> Candidate:
    site = job.order.site_id
    duty = (Duty.ON_SHIFT if tech.user_id in working else Duty.ON_CALL if tech.user_id in standing_by
            else Duty.OFF_DUTY)
    available = duty is Duty.ON_SHIFT or (duty is Duty.ON_CALL and job.emergency)
    nearness = (Nearness.SITE if tech.covers(site, zones) else
                Nearness.ZONE if tech.zone is not None and tech.zone in zones else Nearness.FURTHER)
    reasons = (
        _qualification(tech, job.need),
        duty.value if available or duty is Duty.OFF_DUTY else "on call, for emergencies only",
        {Nearness.SITE: f"covers {site}", Nearness.ZONE: f"works in the zone of {site}",
         Nearness.FURTHER: f"works away from {site}"}[nearness],
        f"{open_orders} open order{'' if open_orders == 1 else 's'}",
    )
    return Candidate(tech.user_id, duty, available, nearness, open_orders, reasons)


def _qualification(tech: Technician, need: Need) -> str:
    text = f"qualified: {need.skill.value} ({need.why})" if need.why else f"qualified: {need.skill.value}"
    if need.certificate is not None:
        text += f", {need.certificate} certificate valid until {tech.certificates[need.certificate].isoformat()}"
    return text
