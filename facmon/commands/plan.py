"""`facmon plan`: re-plan against the configured database and print the plan, or export it (CSV, iCalendar)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facmon.commands import Commands

if TYPE_CHECKING:
    from core.plans import PlanTask
    from predictor.planner_service import PlanningService, PlanRun

# Columns of the printed table: header, width (the explanation takes the rest of the line).
_TABLE = (("id", 6), ("day", 10), ("technician", 10), ("asset", 22), ("task", 34))


def register(commands: Commands) -> None:
    plan = commands.add_parser("plan", help="re-plan preventive maintenance now and print the plan (or export it)")
    plan.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    plan.add_argument("--horizon-days", type=int, default=None, help="days to plan (default: [planner] horizon_days)")
    plan.add_argument("--json", action="store_true", help="print the plan and its tasks as JSON")
    plan.add_argument("--export", choices=["csv", "ics"], help="write the open tasks as CSV or iCalendar to --out")
    plan.add_argument("--technician", help="ics: the technician's calendar; csv: only their tasks")
    plan.add_argument("--site", help="ics: the site's calendar; csv: only its tasks")
    plan.add_argument("--out", type=Path, help="the export's file (default: standard output)")
    plan.add_argument("--actor", default="planner", help="who re-plans, for the record")
    plan.set_defaults(run=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    from core.clock import WallClock
    from core.errors import InvalidRequest
    from core.events import EventBus
    from facmon.workspace import command_settings
    from people.records import PeopleRecords
    from predictor.planner_service import planning_service
    from storage.records import Database
    from workorders.book import WorkOrderBook
    from workorders.notice_board import NoticeBoard
    from workorders.slafile import load_policy

    if args.export == "ics" and (args.technician is None) == (args.site is None):
        raise InvalidRequest("--export ics needs exactly one of --technician and --site")
    settings = command_settings(args.config)
    policy = load_policy(settings.sla.policy_file)
    db = Database(settings.database.url)
    try:
        db.upgrade()
        clock, bus = WallClock(), EventBus()
        book = WorkOrderBook(db, bus, clock, deadline=policy.first_due)
        planning = planning_service(db, book, clock, PeopleRecords(db), policy, settings.planner,
                                    notices=NoticeBoard(db, bus, clock))
        with _native_stdout_to_stderr():
            run = planning.replan(args.actor, args.horizon_days)
        if args.export is not None:
            _write(_export(planning, args), args.out)
        elif args.json:
            print(json.dumps(plan_json(run), indent=2))
        else:
            print(plan_table(run))
    finally:
        db.dispose()
    return 0


@contextmanager
def _native_stdout_to_stderr() -> Iterator[None]:
    """Send what native code writes to file descriptor 1 to standard error meanwhile: HiGHS prints its
    banner there when a model is made, and standard output carries the plan (JSON, CSV, iCalendar)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _export(planning: PlanningService, args: argparse.Namespace) -> bytes:
    from core.plans import PlanTaskStatus
    from storage.records.plans import TaskFilter

    if args.export == "csv":
        open_tasks = (PlanTaskStatus.PROPOSED, PlanTaskStatus.ACCEPTED, PlanTaskStatus.MOVED)
        return planning.csv(TaskFilter(statuses=open_tasks, site_id=args.site, technician_id=args.technician))
    if args.technician is not None:
        return planning.technician_calendar(args.technician)
    return planning.site_calendar(args.site)


def _write(document: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        out.write_bytes(document)
        print(out)


def plan_json(run: PlanRun) -> dict[str, Any]:
    """The run as the API serialises it: the plan, what re-planning did, and the open tasks."""
    from api.schemas.plans import PlanRunPublic, PlanTaskPublic

    return {**PlanRunPublic.of(run).model_dump(mode="json"),
            "items": [PlanTaskPublic.of(task).model_dump(mode="json") for task in run.tasks]}


def plan_table(run: PlanRun) -> str:
    """The plan for people: a summary line, then one line per open task with its explanation."""
    plan = run.plan
    lines = [f"plan {plan.id} ({plan.status.value}) {plan.horizon_start} .. {plan.horizon_end}: "
             f"{len(run.tasks)} open tasks, expected cost {plan.expected_cost:,.0f}; "
             f"{run.opened} orders opened, {run.moved} moved, {run.dropped} dropped, {run.kept} kept",
             "  ".join(name.ljust(width) for name, width in _TABLE) + "  explanation"]
    lines += [_row(task) for task in run.tasks]
    lines += [f"not placed: {u.rule_id} on {u.asset_id}, due {u.due_date}" + (" (regulatory)" if u.regulatory else "")
              + f": {u.reason}" for u in run.unplaced]
    return "\n".join(lines)


def _row(task: PlanTask) -> str:
    cells = (str(task.id), task.planned_date.isoformat(), task.technician_id or "-", task.asset_id, task.task)
    fitted = [(cell if len(cell) <= width else cell[:width - 1] + "~").ljust(width)
              for cell, (_, width) in zip(cells, _TABLE, strict=True)]
    status = "" if task.status.value == "proposed" else f"[{task.status.value}] "
    return "  ".join(fitted) + "  " + status + task.explanation
