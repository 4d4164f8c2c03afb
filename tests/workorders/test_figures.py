"""The figures read from the records (SQL counts and slim rows) equal the pure ones, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.domain import WorkOrderPriority
from core.errors import NotFound
from storage.records import Database
from tests.records import BACKENDS, fresh_database
from tests.workorders.month_data import MARCH, RUN_HOURS, pure_figures, seed_march
from workorders.figures import monthly_figures
from workorders.kpi import Ratio
from workorders.slafile import load_policy


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    yield database
    database.dispose()


def test_sql_figures_equal_the_pure_figures_on_the_same_records(db: Database) -> None:
    ids = seed_march(db)
    read = monthly_figures(db.engine, MARCH, None, RUN_HOURS)
    assert [(f.site_id, f.kind) for f in read] == [("s1", "elevator"), ("s1", "pump"), ("s1", "all"),
                                                   ("s2", "pump"), ("s2", "all")]
    assert read == pure_figures(db, MARCH, ids, {"s1": 2, "s2": 1})


def test_figures_of_the_pumps_match_the_hand_computed_case(db: Database) -> None:
    seed_march(db)
    (pumps,) = [f for f in monthly_figures(db.engine, MARCH, ["s1"], RUN_HOURS) if f.kind == "pump"]
    assert pumps.assets == 2  # p1, p2
    assert pumps.repairs == 2  # orders 1 and 2 completed in March (7 is preventive, 9 cancelled)
    assert pumps.repair_rate == 1.0  # 2 / 2
    assert pumps.mttr_hours == pytest.approx(2.5)  # (3 h + 2 h) / 2
    assert pumps.failures == 3  # 1, 2, 4 opened in March on a pump (9 cancelled, 5 and 8 in February)
    assert pumps.mtbf_hours == pytest.approx(348.0)  # (300 run hours of p1 + 744 calendar hours of p2) / 3
    assert pumps.repeat_failures == 1  # order 2: the same seal 18 days after order 1
    assert pumps.first_time_fix == Ratio(0, 2)  # 1 was repeated, 2 was sent back
    assert pumps.backlog == {"0-2d": 0, "3-7d": 1, "8-30d": 0, ">30d": 2}  # 4 (6.7 d); 5 (59 d), 8 (40 d)
    # PM due = the policy's complete deadline + grace: 7 done Mar 15 02:00, by Mar 13 09:30 + 3 d; 8 never done
    assert pumps.pm == Ratio(1, 2)
    # normal: 1 and 2 accepted and completed in time, 4 neither accepted nor completed by month end: 2 of 3;
    # planned: 7 accepted Mar 14 (due Mar 2) and completed Mar 15 (due Mar 13); 9 cancelled is not judged
    assert pumps.sla[WorkOrderPriority.NORMAL] == Ratio(2, 3)
    assert pumps.sla[WorkOrderPriority.PLANNED] == Ratio(0, 1)
    assert pumps.satisfaction == 4.0
    assert pumps.follow_up == Ratio(1, 2)  # 1 followed up, 2 closed without; both had a requester
    assert pumps.complaints is None


def test_the_whole_site_adds_the_elevator_and_site_level_orders_and_the_complaints(db: Database) -> None:
    seed_march(db)
    (site,) = [f for f in monthly_figures(db.engine, MARCH, ["s1"], {}) if f.kind == "all"]
    assert site.assets == 3
    assert site.repairs == 3  # 1, 2 and the emergency 3
    assert site.mttr_hours == pytest.approx((3 + 2 + 1.25) / 3)  # emergency: 0:45 -> 2:00
    assert site.sla[WorkOrderPriority.EMERGENCY] == Ratio(0, 1)  # restored in time, but on site after 45 min
    # + 6: its clocks still ran at month end, but the SLA watch recorded its accept breached on Apr 1
    assert site.sla[WorkOrderPriority.NORMAL] == Ratio(2, 4)
    assert site.backlog == {"0-2d": 1, "3-7d": 1, "8-30d": 0, ">30d": 2}  # + the site-level request
    assert site.orders_opened == 7  # 1, 2, 3, 4, 6, 7, 9; not 5 and 8 (February)
    assert site.complaints == 2  # the February one is not March's
    assert site.complaints_per_100_orders == pytest.approx(2 * 100 / site.orders_opened)


def test_a_clock_paused_while_waiting_for_the_resident_meets_what_it_would_have_breached(db: Database) -> None:
    seed_march(db)
    (site,) = [f for f in monthly_figures(db.engine, MARCH, ["s2"], {}) if f.kind == "all"]
    # 10 on time; 11 completed Mar 13, due Mar 11 without its pause but Mar 16 with it (month_data)
    assert site.sla[WorkOrderPriority.NORMAL] == Ratio(2, 2)


def test_the_policy_given_judges_the_targets(db: Database, tmp_path: Path) -> None:
    seed_march(db)
    override = tmp_path / "sla.yaml"
    override.write_text("targets:\n  - priority: emergency\n    arrive: 1 h\n")
    (site,) = [f for f in monthly_figures(db.engine, MARCH, ["s1"], {}, load_policy(override)) if f.kind == "all"]
    assert site.sla[WorkOrderPriority.EMERGENCY] == Ratio(1, 1)  # on site after 45 min: within 1 h


def test_an_unknown_site_is_not_found(db: Database) -> None:
    seed_march(db)
    with pytest.raises(NotFound, match="nowhere"):
        monthly_figures(db.engine, MARCH, ["nowhere"])
