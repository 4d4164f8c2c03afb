"""`facmon demo`: the whole system on embedded defaults, a simulated portfolio and accelerated time."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.clock import AcceleratedClock, WallClock
from core.domain import Asset, AssetKind, Forecast, WorkOrderSource
from core.plans import PlanTaskStatus
from core.settings import load_settings
from facmon.broker import EmbeddedBroker, free_port
from facmon.demo_publish import publish_hint
from facmon.demo_users import create_demo_users
from facmon.ops import OpsCounts, OpsDriver
from facmon.periodic import Periodic
from facmon.runtime import Runtime, build_runtime
from facmon.workspace import DemoPlace, record_demo
from people.accounts import Accounts
from people.roster import DEFAULT_ROSTER, load_roster
from predictor.forecast_notes import life_note
from predictor.planner_service import OPEN as OPEN_TASKS
from simulators.ops_model import OpsRates
from simulators.portfolio import default_portfolio
from simulators.runner import SimulatorRunner
from simulators.scenario import DEMO_START, demo_scenario
from storage.records import Database
from storage.records.plans import TaskFilter
from storage.records.work_orders import WorkOrderFilter
from workorders.complaint_desk import ComplaintDesk

log = logging.getLogger(__name__)

# A simulated week in about ten minutes.
DEFAULT_SPEED = 7 * 24 * 60 / 10
# The demo sends a malformed message now and then (simulated seconds) to show the dead-letter path.
MALFORMED_EVERY_S = 6 * 3600
_DEMO_FILES = ("facmon.sqlite3", "telemetry.sqlite3")
ROSTER_DAYS = timedelta(days=91)  # the shifts stored for the demo: a quarter from the simulated start
# Simulated operations of the demo: busier than a real portfolio and with people ten times quicker, so the
# first simulated hours (the test runs about eleven) show requests, complaints, an emergency plan worked,
# an inspection round and follow-up calls. The day shift starts at 00:00 UTC, seven hours in.
DEMO_OPS = OpsRates(requests_per_day=30, complaint_share=0.3, emergencies_per_day=6, pace=0.1)
OPS_TICK_S = 0.25  # wall seconds between looks of the simulated desk
PLAN_PREVIEW = 5  # plan tasks printed at the end
FORECAST_PREVIEW = 5  # the least healthy assets' forecasts printed at the end


@dataclass(frozen=True, slots=True)
class DemoOptions:
    speed: float = DEFAULT_SPEED
    duration_s: float | None = None
    port: int = 8080
    data_dir: Path = Path("facmon-data")
    summary_json: Path | None = None
    seed: int = 0
    faults: bool = True  # False: sensor noise only, so the run shows that normal operation raises nothing


def run_demo(options: DemoOptions, say: Any = print) -> dict[str, Any]:
    """Run until ``duration_s`` passes or Ctrl-C; returns (and prints) the summary."""
    data_dir = _fresh_data_dir(options.data_dir).resolve()  # absolute: commands run elsewhere find it
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    settings = load_settings(
        mqtt={"host": broker.host, "port": broker.port, "client_id": "facmon-demo-collector"},
        telemetry={"backend": "sqlite", "sqlite_path": data_dir / "telemetry.sqlite3"},
        database={"url": f"sqlite:///{data_dir / 'facmon.sqlite3'}"},
        api={"host": "127.0.0.1", "port": options.port},
        predictor={"interval_s": 6 * 3600},
        collector={"spool_dir": data_dir / "spool"},  # the durable spool lives with the data
    )
    clock = AcceleratedClock(DEMO_START, options.speed)
    portfolio = default_portfolio()
    runtime = build_runtime(settings, clock)
    runtime.register(portfolio.sites, portfolio.assets)
    # Technicians and their shifts for the simulated weeks, so orders can be dispatched.
    runtime.dispatch.people.install(load_roster(DEFAULT_ROSTER), DEMO_START.date(),
                                    DEMO_START.date() + ROSTER_DAYS, clock.now())
    password, logins = create_demo_users(Accounts(runtime.db, WallClock()),
                                         portfolio.sites[0].id if portfolio.sites else None)
    runtime.start()
    simulators = SimulatorRunner(portfolio, clock, broker.host, broker.port, seed=options.seed,
                                 scenario=demo_scenario() if options.faults else None,
                                 malformed_every_s=MALFORMED_EVERY_S)
    simulators.follow_work_orders(runtime.bus)  # completed work orders reset the simulated wear
    simulators.start()
    ops = _ops(runtime, clock, options.seed)
    ops_thread = Periodic("ops", OPS_TICK_S, ops.step)
    ops_thread.start()
    say(f"facmon demo: {len(portfolio.assets)} simulated assets on {len(portfolio.sites)} sites, "
        f"time x{options.speed:.0f} from {DEMO_START:%Y-%m-%d %H:%M} UTC"
        + ("" if options.faults else ", no faults scheduled"))
    _tell_how_to_publish(broker, portfolio.assets, clock, say)
    record_demo(DemoPlace(data_dir=str(data_dir.resolve()), database_url=settings.database.url,
                          telemetry_path=str(settings.telemetry.sqlite_path), broker_host=broker.host,
                          broker_port=broker.port, api_port=options.port, pid=os.getpid()))
    say(f"console: http://127.0.0.1:{options.port}/  - sign in as any of these, password {password}")
    for role, login in logins:
        say(f"  {role.value:<11} {login}")
    say(f"API docs: http://127.0.0.1:{options.port}/docs   (a token for scripts: facmon users token admin)")
    say(f"maintenance plan: http://127.0.0.1:{options.port}/api/v1/plan-tasks (re-planned at start and after "
        "each forecast run)")
    say("press Ctrl-C to stop" if options.duration_s is None else f"running for {options.duration_s:.0f} s")
    try:
        _wait(options.duration_s)
    except KeyboardInterrupt:
        say("stopping ...")
    finally:
        ops_thread.stop()
        simulators.stop()
        time.sleep(0.5)  # let the broker deliver what the simulators last sent
        runtime.wait_until_drained()
        summary = _summary(runtime, clock, simulators.stats.malformed_injected, ops.counts)
        runtime.stop()
        broker.stop()
    say(" ".join(f"{key}={value}" for key, value in summary.items() if not isinstance(value, dict | list)))
    for forecast in summary["forecasts_preview"]:  # the least healthy assets, with their intervals and drivers
        say(f"forecast: {forecast['asset']} health {forecast['health']:.0f}, remaining life "
            f"{forecast['rul']} ({forecast['model']}) - {forecast['why']}"
            + (f" [why they differ: {forecast['life_note']}]" if forecast["life_note"] else ""))
    for task in summary["plan"]:  # the first days of the maintenance plan, each with its reasons
        say(f"plan: {task['day']} {task['technician'] or '-'} {task['asset']}: {task['task']} [{task['status']}] "
            f"- {task['why']}")
    if options.summary_json is not None:
        options.summary_json.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _tell_how_to_publish(broker: EmbeddedBroker, assets: list[Asset], clock: AcceleratedClock, say: Any) -> None:
    pump = next((asset for asset in assets if asset.kind is AssetKind.PUMP), assets[0])
    for line in publish_hint(broker.host, broker.port, pump, clock.now(), clock.speed, time.time()):
        say(line)


def _fresh_data_dir(data_dir: Path) -> Path:
    """Each demo starts from an empty record book, so its summary describes this run alone."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in _DEMO_FILES:
        for leftover in data_dir.glob(f"{name}*"):  # the database and its -wal/-shm files
            leftover.unlink()
    shutil.rmtree(data_dir / "spool", ignore_errors=True)  # no replay of an earlier demo
    return data_dir


def _wait(duration_s: float | None) -> None:
    """Sleep in short steps (so Ctrl-C is seen at once) until ``duration_s`` has passed, or forever."""
    deadline = math.inf if duration_s is None else time.monotonic() + duration_s
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(0.2, left))


def _ops(runtime: Runtime, clock: AcceleratedClock, seed: int) -> OpsDriver:
    """Residents, the desk and the technicians at work on the runtime's own services."""
    assert runtime.inspections is not None  # build_runtime always wires the rounds
    desk = ComplaintDesk(runtime.db, runtime.book, runtime.bus, clock)
    return OpsDriver(runtime.db, runtime.book, runtime.dispatch, runtime.inspections, runtime.emergency, desk,
                     clock, DEMO_OPS, seed)


def _summary(runtime: Runtime, clock: AcceleratedClock, malformed_injected: int, ops: OpsCounts) -> dict[str, Any]:
    db = runtime.db
    return {
        "readings": runtime.ingest.stats.stored,
        "dead_letters": db.dead_letters.count(),
        "dead_letters_injected": malformed_injected,
        "alarms": db.alarms.count(),
        "work_orders": db.work_orders.count(),
        "forecasts": db.forecasts.count(),
        "requests": ops.requests,
        "complaints": ops.complaints,
        "rounds_completed": ops.rounds_completed,
        "plans_worked": ops.plans_worked,
        "follow_ups": ops.follow_ups,
        "simulated_hours": round((clock.now() - clock.start).total_seconds() / 3600, 1),
        "dead_letters_by_reason": db.dead_letters.counts(),
        "plan_tasks": db.plans.total(TaskFilter(statuses=OPEN_TASKS)),
        "planned_orders": db.work_orders.total(WorkOrderFilter(source=WorkOrderSource.PLANNED)),
        "plan": _plan_preview(db),
        "forecasts_preview": _forecast_preview(db),
    }


def _forecast_preview(db: Database) -> list[dict[str, Any]]:
    """The least healthy assets' forecasts: health, remaining life P50 with its P10-P90 interval, top driver."""
    forecasts = sorted(db.forecasts.latest(), key=lambda f: f.health)[:FORECAST_PREVIEW]
    return [{"asset": f.asset_id, "health": f.health, "rul": _rul_text(f), "model": f.model,
             "why": f.drivers[0].text if f.drivers else "no feature past 5 % of its limit",
             "life_note": life_note(f)} for f in forecasts]


def _rul_text(forecast: Forecast) -> str:
    if forecast.rul_days is None:
        return "unknown"
    if forecast.rul_p10_days is None or forecast.rul_p90_days is None:
        return f"{forecast.rul_days:.0f} days"
    return f"{forecast.rul_days:.0f} days (P10 {forecast.rul_p10_days:.0f}, P90 {forecast.rul_p90_days:.0f})"


def _plan_preview(db: Database) -> list[dict[str, Any]]:
    """The plan's first tasks, open or already worked, with their explanations (the console lists them all)."""
    tasks, _ = db.plans.page(TaskFilter(statuses=(*OPEN_TASKS, PlanTaskStatus.DONE)), limit=PLAN_PREVIEW)
    return [{"day": t.planned_date.isoformat(), "technician": t.technician_id, "asset": t.asset_id, "task": t.task,
             "status": t.status.value, "why": t.explanation} for t in tasks]
