"""The plan out of facmon: an iCalendar per technician or per site, and a CSV of the tasks with their reasons.

Pure functions from plan tasks to bytes. The calendars are written by the ``icalendar`` package, like the
residents' notice feeds (``workorders.notice_feeds``, whose media type they share): each task is an
all-day event on its planned day, with a UID derived from the task's id, so a calendar app that
subscribes sees a moved task move rather than a second one appear. The CSV is one row per task for a
spreadsheet: the explanation in words, and the figures behind it.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import icalendar

from core.plans import PlanTask
from workorders.notice_feeds import ICS_MEDIA_TYPE

__all__ = ["CSV_COLUMNS", "CSV_MEDIA_TYPE", "ICS_MEDIA_TYPE", "plan_calendar", "plan_csv", "task_uid"]

PRODID = "-//facmon//maintenance plan//EN"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_COLUMNS = ("id", "status", "planned_date", "due_date", "technician_id", "site_id", "asset_id", "rule_id",
               "task", "hours", "planned_cost", "expected_failure_cost", "affects_residents", "work_order_id",
               "move_reason", "explanation")


def task_uid(task: PlanTask) -> str:
    """A stable, unique UID of a task's event (by id: a moved task keeps it)."""
    return f"{uuid.uuid5(uuid.NAMESPACE_URL, f'facmon:plan-task:{task.id}')}@facmon"


def _summary(task: PlanTask) -> str:
    return f"{task.task}: {task.asset_id}"


def _description(task: PlanTask) -> str:
    lines = [f"Why: {task.explanation}." if task.reasons else "",
             f"Asset {task.asset_id} at site {task.site_id}; rule {task.rule_id}, due {task.due_date.isoformat()}.",
             f"About {task.hours:g} h, planned cost {task.planned_cost:.0f}; "
             f"expected failure cost if not done {task.expected_failure_cost:.0f}.",
             f"Status: {task.status.value}" + (f" ({task.move_reason})" if task.move_reason else "") + "."]
    if task.work_order_id is not None:
        lines.append(f"Work order {task.work_order_id}.")
    if task.affects_residents:
        lines.append("Affects residents: a notice goes out before the work.")
    return "\n".join(line for line in lines if line)


def plan_calendar(name: str, tasks: Iterable[PlanTask], stamp: datetime) -> bytes:
    """The iCalendar named ``name`` with one all-day event per task; ``stamp`` (the plan's time) dates them."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # An X- property is written as given unless typed: as text, its commas and line breaks are escaped.
    calendar.add("x-wr-calname", icalendar.vText(name))
    for task in tasks:
        event = icalendar.Event()
        event.add("uid", task_uid(task))
        event.add("dtstamp", stamp)
        event.add("dtstart", task.planned_date)  # a date: an all-day event (VALUE=DATE)
        event.add("dtend", task.planned_date + timedelta(days=1))
        event.add("summary", _summary(task))
        event.add("description", _description(task))
        event.add("location", task.site_id)
        event.add("categories", [task.rule_id])
        event.add("status", "CONFIRMED" if task.status.is_pinned else "TENTATIVE")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document


def plan_csv(tasks: Sequence[PlanTask]) -> bytes:
    """The tasks as CSV (UTF-8, a header row, one row per task)."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for task in tasks:
        writer.writerow({
            "id": task.id, "status": task.status.value, "planned_date": task.planned_date.isoformat(),
            "due_date": task.due_date.isoformat(), "technician_id": task.technician_id or "", "site_id": task.site_id,
            "asset_id": task.asset_id, "rule_id": task.rule_id, "task": task.task, "hours": f"{task.hours:g}",
            "planned_cost": f"{task.planned_cost:.2f}", "expected_failure_cost": f"{task.expected_failure_cost:.2f}",
            "affects_residents": "yes" if task.affects_residents else "no",
            "work_order_id": "" if task.work_order_id is None else task.work_order_id,
            "move_reason": task.move_reason, "explanation": task.explanation})
    return out.getvalue().encode("utf-8")
