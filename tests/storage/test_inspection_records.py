"""Inspection rounds and results in the records database, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Conflict
from core.inspections import PlannedRound, RoundStatus
from storage.records import Database
from storage.records.inspections import RoundFilter

DUE = datetime(2026, 3, 2, 10, tzinfo=UTC)


def planned(days: int = 3) -> list[PlannedRound]:
    """Daily pump rounds on two pumps and a site-wide lighting round each day."""
    return [PlannedRound(template, "daily", "s1", asset, DUE + timedelta(days=d))
            for d in range(days) for template, asset in (("pump", "p1"), ("pump", "p2"), ("lights", None))]


def test_adding_the_same_rounds_twice_stores_them_once_site_wide_ones_too(db: Database) -> None:
    assert db.inspections.add_rounds(planned(), assignee="wang") == 9
    assert db.inspections.add_rounds(planned(5)) == 6  # only the two new days
    rounds = db.inspections.list(RoundFilter())
    assert len(rounds) == 15
    assert [(r.asset_id, r.status, r.assignee) for r in rounds[:3]] == [
        ("p1", RoundStatus.SCHEDULED, "wang"), ("p2", RoundStatus.SCHEDULED, "wang"),
        (None, RoundStatus.SCHEDULED, "wang")]


def test_rounds_are_listed_by_due_time_within_the_window_and_status(db: Database) -> None:
    db.inspections.add_rounds(planned())
    first = db.inspections.list(RoundFilter())[0]
    db.inspections.change(first.id, RoundStatus.SCHEDULED, status=RoundStatus.IN_PROGRESS)
    window = RoundFilter(site_id="s1", since=DUE + timedelta(days=1), until=DUE + timedelta(days=2))
    assert [r.due_at for r in db.inspections.list(window)] == [DUE + timedelta(days=1)] * 3
    assert [r.id for r in db.inspections.list(RoundFilter(statuses=[RoundStatus.IN_PROGRESS]))] == [first.id]
    assert db.inspections.list(RoundFilter(site_id="elsewhere")) == []


def test_a_status_change_from_a_stale_status_is_a_conflict(db: Database) -> None:
    db.inspections.add_rounds(planned(1))
    round_id = db.inspections.list(RoundFilter())[0].id
    started = db.inspections.change(round_id, RoundStatus.SCHEDULED, status=RoundStatus.IN_PROGRESS, started_at=DUE)
    assert (started.status, started.started_at) == (RoundStatus.IN_PROGRESS, DUE)
    with pytest.raises(Conflict, match="no longer 'scheduled'"):
        db.inspections.change(round_id, RoundStatus.SCHEDULED, status=RoundStatus.IN_PROGRESS)


def test_recording_an_item_again_replaces_it_and_keeps_its_work_order(db: Database) -> None:
    db.inspections.add_rounds(planned(1))
    round_id = db.inspections.list(RoundFilter())[0].id
    first = db.inspections.record(round_id, "vibration", "p1", False, 6.1, "", "wang", DUE)
    assert db.inspections.link_work_order(first.id, 41)
    assert not db.inspections.link_work_order(first.id, 42)  # linked already
    again = db.inspections.record(round_id, "vibration", "p1", False, 6.3, "re-measured", "li", DUE + timedelta(1))
    site_wide = db.inspections.record(round_id, "pump_room", None, True, None, "", "li", DUE)
    assert (again.id, again.value, again.recorded_by, again.work_order_id) == (first.id, 6.3, "li", 41)
    assert [(r.item, r.asset_id) for r in db.inspections.results(round_id)] == [("vibration", "p1"),
                                                                                ("pump_room", None)]
    assert site_wide.asset_id is None


def test_marking_missed_takes_only_open_rounds_of_the_template_due_before_the_cut(db: Database) -> None:
    db.inspections.add_rounds(planned())
    rounds = db.inspections.list(RoundFilter())
    db.inspections.change(rounds[0].id, RoundStatus.SCHEDULED, status=RoundStatus.IN_PROGRESS)
    db.inspections.change(rounds[1].id, RoundStatus.SCHEDULED, status=RoundStatus.IN_PROGRESS)
    db.inspections.change(rounds[1].id, RoundStatus.IN_PROGRESS, status=RoundStatus.DONE)
    assert db.inspections.mark_missed("pump", DUE + timedelta(days=1, seconds=1)) == 3  # 4 pump rounds, 1 done
    missed = db.inspections.list(RoundFilter(statuses=[RoundStatus.MISSED]))
    assert {(r.template, r.due_at) for r in missed} == {("pump", DUE), ("pump", DUE + timedelta(days=1))}
    assert db.inspections.get(rounds[1].id).status is RoundStatus.DONE
