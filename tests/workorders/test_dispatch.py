"""Dispatch, pure: the skill an order needs, qualification, and the ranked proposal (hypothesis over rosters)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, WorkOrder, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from people.model import Shift, Skill, Technician
from workorders.dispatch import (
    Duty,
    Job,
    Nearness,
    Need,
    job_of,
    need_of,
    propose,
    qualified,
    shortfall,
    unqualified,
)

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
KINDS = {"lift-1": AssetKind.ELEVATOR, "pump-1": AssetKind.PUMP, "pump-2": AssetKind.PUMP,
         "light-1": AssetKind.LIGHTING}


def order(asset_id: str | None = None, title: str = "fault", site_id: str = "s1",
          priority: WorkOrderPriority = WorkOrderPriority.NORMAL, **fields: Any) -> WorkOrder:
    return WorkOrder(1, WorkOrderKind.CORRECTIVE, priority, WorkOrderStatus.REQUESTED, title, asset_id, site_id,
                     AT, AT + timedelta(hours=4), **fields)


@pytest.mark.parametrize(("wo", "skill", "certificate"), [
    (order("lift-1"), Skill.ELEVATOR, "elevator"),
    (order("pump-1"), Skill.PLUMBER, None),
    (order("light-1"), Skill.ELECTRICIAN, None),
    (order(None, "Booster set gives no supply", related_assets=("pump-1", "pump-2")), Skill.PLUMBER, None),
    (order(None, "Site power cut", related_assets=("lift-1", "pump-1", "light-1")), Skill.ELECTRICIAN, None),
    (order(None, "Water leaking in the car park"), Skill.PLUMBER, None),
    (order(None, "Passenger trapped in the lift"), Skill.ELEVATOR, "elevator"),
    (order(None, "Stairwell lights flicker"), Skill.ELECTRICIAN, None),
    (order(None, "Broken door handle in 4B"), Skill.GENERAL, None),
])
def test_need_follows_what_the_order_concerns(wo: WorkOrder, skill: Skill, certificate: str | None) -> None:
    need = need_of(wo, KINDS)
    assert (need.skill, need.certificate) == (skill, certificate)


def test_elevator_certificate_is_valid_through_its_expiry_day() -> None:
    tech = Technician("tom", frozenset({Skill.ELEVATOR}), {"elevator": AT.date()})
    need = Need(Skill.ELEVATOR, "elevator")
    assert shortfall(tech, need, AT) is None
    assert shortfall(tech, need, AT + timedelta(days=1)) == "tom's 'elevator' certificate expired on 2026-11-27"
    assert shortfall(Technician("ann", frozenset({Skill.ELEVATOR})), need, AT) == \
        "ann holds no 'elevator' certificate"
    assert shortfall(Technician("bo", frozenset({Skill.PLUMBER})), need, AT) == "bo lacks the 'elevator' skill"


def test_proposal_ranks_on_shift_then_near_then_least_loaded_with_reasons() -> None:
    plumber = frozenset({Skill.PLUMBER})
    techs = [Technician("far", plumber, zone="z2"), Technician("busy", plumber, sites=frozenset({"s1"}), zone="z1"),
             Technician("idle", plumber, sites=frozenset({"s1"}), zone="z1"),
             Technician("zonal", plumber, sites=frozenset({"s2"}), zone="z1"),
             Technician("off", plumber, sites=frozenset({"s1"}))]
    shifts = [Shift(t, AT - timedelta(hours=2), AT + timedelta(hours=6)) for t in ("far", "busy", "idle", "zonal")]
    candidates = propose(job_of(order("pump-1"), KINDS), techs, shifts, {"busy": 3, "idle": 1}, AT)
    assert [c.user_id for c in candidates] == ["idle", "busy", "zonal", "far", "off"]
    assert [c.nearness for c in candidates[:4]] == [Nearness.SITE, Nearness.SITE, Nearness.ZONE, Nearness.FURTHER]
    assert candidates[0].reasons == ("qualified: plumber (pump pump-1)", "on shift", "covers s1", "1 open order")
    assert (candidates[-1].duty, candidates[-1].available) == (Duty.OFF_DUTY, False)


def test_on_call_counts_only_for_emergencies() -> None:
    tech = Technician("pia", frozenset({Skill.PLUMBER}))
    duty = [Shift("pia", AT - timedelta(hours=1), AT + timedelta(hours=1), on_call=True)]
    urgent = job_of(order("pump-1", priority=WorkOrderPriority.EMERGENCY), KINDS)
    normal = job_of(order("pump-1"), KINDS)
    assert propose(urgent, [tech], duty, {}, AT)[0].available
    [candidate] = propose(normal, [tech], duty, {}, AT)
    assert not candidate.available
    assert "on call, for emergencies only" in candidate.reasons


# -- hypothesis over random rosters --------------------------------------------------------------------------
SITES = ("s1", "s2", "s3")
ROSTERS = settings(max_examples=60)  # three properties over the same rosters: keep the suite quick


@st.composite
def technicians(draw: st.DrawFn) -> list[Technician]:
    ids = draw(st.lists(st.sampled_from("abcdefghij"), unique=True, max_size=8))
    return [Technician(
        user_id,
        frozenset(draw(st.sets(st.sampled_from(list(Skill))))),
        draw(st.one_of(st.just({}), st.builds(lambda d: {"elevator": AT.date() + timedelta(days=d)},
                                              st.integers(-30, 30)))),
        frozenset(draw(st.sets(st.sampled_from(SITES)))),
        draw(st.sampled_from(["z1", "z2", None])),
    ) for user_id in ids]


@st.composite
def rosters(draw: st.DrawFn) -> tuple[Job, list[Technician], list[Shift], dict[str, int]]:
    techs = draw(technicians())
    shifts = []
    for tech in techs:
        start = AT + timedelta(hours=draw(st.integers(-12, 4)))
        if draw(st.booleans()):
            shifts.append(Shift(tech.user_id, start, start + timedelta(hours=draw(st.integers(1, 12))),
                                on_call=draw(st.booleans())))
    open_work = {t.user_id: draw(st.integers(0, 5)) for t in techs}
    asset = draw(st.sampled_from([None, *KINDS]))
    title = draw(st.sampled_from(["Power cut", "Pipe burst", "Lift stuck", "Door handle"]))
    priority = draw(st.sampled_from(list(WorkOrderPriority)))
    wo = order(asset, title, draw(st.sampled_from(SITES)), priority)
    return job_of(wo, KINDS), techs, shifts, open_work


@ROSTERS
@given(rosters())
def test_proposal_holds_exactly_the_qualified_technicians(roster: Any) -> None:
    job, techs, shifts, open_work = roster
    proposed = {c.user_id for c in propose(job, techs, shifts, open_work, AT)}
    assert proposed == {t.user_id for t in techs if qualified(t, job, AT)}
    assert proposed.isdisjoint(user_id for user_id, _ in unqualified(job, techs, AT))


@ROSTERS
@given(rosters())
def test_first_candidate_is_on_shift_when_anyone_qualified_is(roster: Any) -> None:
    job, techs, shifts, open_work = roster
    candidates = propose(job, techs, shifts, open_work, AT)
    working = {s.user_id for s in shifts if not s.on_call and s.starts_at <= AT < s.ends_at}
    if any(qualified(t, job, AT) and t.user_id in working for t in techs):
        assert candidates[0].duty is Duty.ON_SHIFT
    elif job.emergency and any(c.duty is Duty.ON_CALL for c in candidates):
        assert candidates[0].duty is Duty.ON_CALL


@ROSTERS
@given(rosters())
def test_among_equals_the_least_loaded_comes_first(roster: Any) -> None:
    job, techs, shifts, open_work = roster
    candidates = propose(job, techs, shifts, open_work, AT)
    for first, second in itertools.pairwise(candidates):
        assert first.available >= second.available
        if (first.duty, first.nearness) == (second.duty, second.nearness):
            assert first.open_orders <= second.open_orders



def test_zone_technician_naming_no_sites_covers_the_sites_of_the_zone() -> None:
    techs = [Technician("named", frozenset({Skill.GENERAL}), sites=frozenset({"s1"}), zone="z1"),
             Technician("roamer", frozenset({Skill.GENERAL}), zone="z1")]
    nearness = {c.user_id: c.nearness for c in propose(job_of(order(None, "Door"), KINDS), techs, [], {}, AT)}
    assert nearness == {"named": Nearness.SITE, "roamer": Nearness.SITE}
