"""Inspection rounds (巡检), the pure part: templates and their item sets, schedules, judging, standing.

A template belongs to an asset kind and visits on a cycle (every day, every 7 days, every 15 days for
elevators) anchored on a date. Its item sets are nested: a set is due every ``every`` visits, and each
set's ``every`` divides the next one's, so the visit on which a larger set falls carries every smaller
set too (the quarterly elevator visit includes the half-monthly items). The templates ship in
``workorders/inspections.yaml`` (format in docs/workorders.md, "Inspection rounds"); a site's own file is
merged over them by template id. Nothing here reads a clock: time comes in as data.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta

from core.domain import Asset
from core.errors import InvalidRequest, TransitionError
from core.inspections import InspectionRound, PlannedRound, RoundStatus
from workorders.inspection_templates import Item, ItemSet, Per, Template

_R = RoundStatus


# --- schedules -----------------------------------------------------------------------------------------

def visits(template: Template, since: datetime, until: datetime) -> Iterator[tuple[datetime, ItemSet]]:
    """Each visit due in [since, until) with the largest item set due on it."""
    period = timedelta(days=template.every_days)
    first = template.first_due()
    index = max(0, -((first - since) // period))  # the first visit at or after ``since``
    while (due_at := first + index * period) < until:
        yield due_at, max((s for s in template.sets if index % s.every == 0), key=lambda s: s.every,
                          default=template.sets[0])
        index += 1


def composition(template: Template, set_name: str) -> tuple[Item, ...]:
    """The items of a round of ``set_name``: that set's and those of every set it contains, in cycle order."""
    every = template.set_named(set_name).every
    return tuple(item for s in template.sets if every % s.every == 0 for item in s.items)


def plan_rounds(templates: Iterable[Template], assets: Iterable[Asset], since: datetime,
                until: datetime) -> list[PlannedRound]:
    """Every round the templates ask for in [since, until): per asset of the kind, or per site having one."""
    assets = list(assets)
    planned = []
    for template in templates:
        of_kind = [asset for asset in assets if asset.kind is template.asset_kind]
        targets = ([(asset.site_id, asset.id) for asset in of_kind] if template.per is Per.ASSET
                   else [(site_id, None) for site_id in sorted({asset.site_id for asset in of_kind})])
        for due_at, item_set in visits(template, since, until):
            planned += [PlannedRound(template.id, item_set.name, site_id, asset_id, due_at)
                        for site_id, asset_id in targets]
    return planned


# --- recording -----------------------------------------------------------------------------------------

def judge(item: Item, passed: bool | None, value: float | None) -> bool:
    """Whether ``item`` passed: a measurement by its limits (``value`` required), a check by ``passed``."""
    if item.is_measurement:
        if value is None:
            raise InvalidRequest(f"item {item.id!r} is a measurement in {item.unit}: give its value")
        return ((item.minimum is None or value >= item.minimum)
                and (item.maximum is None or value <= item.maximum))
    if passed is None:
        raise InvalidRequest(f"item {item.id!r} is a check: say whether it passed")
    return passed


def limits_text(item: Item) -> str:
    """The limits of a measurement in words ("2.0 to 7.0 bar", "at most 4.5 mm/s")."""
    if item.minimum is not None and item.maximum is not None:
        return f"{item.minimum:g} to {item.maximum:g} {item.unit}"
    if item.maximum is not None:
        return f"at most {item.maximum:g} {item.unit}"
    return f"at least {item.minimum:g} {item.unit}"


# --- the round's lifecycle -----------------------------------------------------------------------------

ROUND_ALLOWED: dict[RoundStatus, frozenset[RoundStatus]] = {
    _R.SCHEDULED: frozenset({_R.IN_PROGRESS, _R.MISSED}),
    # Started but not completed by due + grace is missed too: the standard counts rounds done in time.
    _R.IN_PROGRESS: frozenset({_R.DONE, _R.MISSED}),
    _R.DONE: frozenset(),
    _R.MISSED: frozenset(),
}


def allowed_round_steps(current: RoundStatus) -> tuple[RoundStatus, ...]:
    order = list(RoundStatus)
    return tuple(sorted(ROUND_ALLOWED[current], key=order.index))


def check_round_step(current: RoundStatus, requested: RoundStatus) -> None:
    """TransitionError naming the allowed steps unless a round in ``current`` may go to ``requested``."""
    if requested not in ROUND_ALLOWED[current]:
        raise TransitionError("inspection round", current.value, requested.value,
                              tuple(status.value for status in allowed_round_steps(current)))


class Standing(enum.StrEnum):
    ON_TIME = "on_time"  # completed by its due time
    LATE = "late"  # completed after its due time
    MISSED = "missed"  # not completed by due + grace
    PENDING = "pending"  # not completed, still within its grace


def standing(round_: InspectionRound, grace: timedelta, now: datetime) -> Standing:
    """How a round stands at ``now`` (a round marked missed stays missed)."""
    if round_.status is _R.DONE and round_.completed_at is not None:
        return Standing.ON_TIME if round_.completed_at <= round_.due_at else Standing.LATE
    if round_.status is _R.MISSED or round_.due_at + grace < now:
        return Standing.MISSED
    return Standing.PENDING


def by_standing(rounds: Iterable[InspectionRound], graces: Mapping[str, timedelta],
                now: datetime) -> dict[Standing, list[InspectionRound]]:
    """The rounds grouped by standing; ``graces`` by template id (an unknown template: no grace)."""
    groups: dict[Standing, list[InspectionRound]] = {s: [] for s in Standing}
    for round_ in rounds:
        groups[standing(round_, graces.get(round_.template, timedelta(0)), now)].append(round_)
    return groups
