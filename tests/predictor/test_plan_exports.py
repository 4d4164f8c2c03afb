"""The plan's exports read back by other parsers: iCalendar by vobject (not icalendar, which writes it),
CSV by the standard library's DictReader."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import vobject
from hypothesis import given
from hypothesis import strategies as st

from core.plans import PlanTask, PlanTaskStatus
from predictor.plan_exports import CSV_COLUMNS, plan_calendar, plan_csv, task_uid

STAMP = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DAY = date(2026, 3, 10)
REASONS = ("P10 of remaining life is 12 days", "quarterly elevator items due", "grouped with 2 tasks at the same site")


def task(task_id: int, **changes: object) -> PlanTask:
    base = PlanTask("elevator.maintenance", f"lift-{task_id}", "riverside", DAY + timedelta(days=2),
                    DAY + timedelta(days=task_id % 3), "tom", "Elevator maintenance (quarterly items)", 2.5, 200.0,
                    37.5, REASONS, affects_residents=True, work_order_id=100 + task_id, id=task_id)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_calendar_parses_back_with_one_all_day_event_per_task() -> None:
    tasks = [task(1), task(2, status=PlanTaskStatus.ACCEPTED), task(3, status=PlanTaskStatus.MOVED,
                                                                     move_reason="festival")]
    parsed = vobject.readOne(plan_calendar("Tom Li: maintenance plan", tasks, STAMP).decode())
    assert parsed.x_wr_calname.value == "Tom Li: maintenance plan"
    events = parsed.vevent_list
    assert [e.uid.value for e in events] == [task_uid(t) for t in tasks]
    assert [e.dtstart.value for e in events] == [t.planned_date for t in tasks]  # dates, not datetimes
    assert [e.dtend.value - e.dtstart.value for e in events] == [timedelta(days=1)] * 3
    assert [e.status.value for e in events] == ["TENTATIVE", "CONFIRMED", "CONFIRMED"]
    first = events[0]
    assert first.summary.value == "Elevator maintenance (quarterly items): lift-1"
    assert first.description.value.startswith("Why: " + "; ".join(REASONS) + ".")
    assert "Work order 101." in first.description.value
    assert "(festival)" in events[2].description.value
    assert first.dtstamp.value == STAMP


def test_a_moved_task_keeps_its_uid() -> None:
    assert task_uid(task(1)) == task_uid(task(1, planned_date=DAY + timedelta(days=9)))
    assert task_uid(task(1)) != task_uid(task(2))


def test_an_empty_plan_is_still_a_valid_calendar() -> None:
    parsed = vobject.readOne(plan_calendar("Nobody", [], STAMP).decode())
    assert parsed.name == "VCALENDAR"
    assert not hasattr(parsed, "vevent")


# Text as planners and asset registers write it: commas, semicolons, quotes, newlines, other scripts.
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n"), min_size=1,
                max_size=120).filter(str.strip)


@given(name=_text, reasons=st.lists(_text, min_size=1, max_size=4), move_reason=st.text(max_size=80))
def test_any_text_survives_both_exports(name: str, reasons: list[str], move_reason: str) -> None:
    tasks = [task(7, task=name, reasons=tuple(reasons), move_reason=move_reason)]
    parsed = vobject.readOne(plan_calendar(name, tasks, STAMP).decode())
    assert parsed.x_wr_calname.value == name
    event = parsed.vevent
    assert event.summary.value == f"{name}: lift-7"
    assert "; ".join(reasons) in event.description.value
    (row,) = csv.DictReader(io.StringIO(plan_csv(tasks).decode("utf-8"), newline=""))
    assert (row["task"], row["explanation"], row["move_reason"]) == (name, "; ".join(reasons), move_reason)


def test_the_csv_has_one_row_per_task_with_its_explanation_and_figures() -> None:
    tasks = [task(1), task(2, technician_id=None, work_order_id=None, affects_residents=False)]
    rows = list(csv.DictReader(io.StringIO(plan_csv(tasks).decode("utf-8"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["explanation"] == "; ".join(REASONS)
    assert (rows[0]["planned_date"], rows[0]["due_date"], rows[0]["hours"], rows[0]["planned_cost"]) == (
        "2026-03-11", "2026-03-12", "2.5", "200.00")
    assert (rows[1]["technician_id"], rows[1]["work_order_id"], rows[1]["affects_residents"]) == ("", "", "no")
