"""`facmon bench maintenance` on a small fleet: the promised keys for every policy, no regulatory miss and no
technician-day over its hours in any policy, and numbers that add up."""

from __future__ import annotations

import json

import pytest

from facmon.cli import main

POLICY_KEYS = ("total_cost", "failures", "failures_prevented_pct", "unplanned_downtime_h", "technician_hours",
               "regulatory_misses", "pm_compliance_pct", "capacity_violations")


@pytest.mark.parametrize("planner", ["solver", "threshold"])
def test_bench_maintenance_prints_one_json_object_and_breaks_no_hard_rule(planner: str,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "maintenance", "--pumps", "20", "--elevators", "10", "--luminaires", "100", "--years", "0.5",
            "--training-years", "1.5", "--planner", planner]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["policies"]) == {"run_to_failure", "fixed_interval", "facmon"}
    assert result["facmon_planner"] == planner
    for name, policy in result["policies"].items():
        for key in POLICY_KEYS:
            assert key in policy, (name, key)
        assert policy["regulatory_misses"] == 0, name
        assert policy["capacity_violations"] == 0, name
        by_kind, by_mode = policy["failures_by_kind"], policy["failures_by_mode"]
        assert policy["failures"] == sum(by_kind.values()) == sum(by_mode.values())
        assert policy["total_cost"] == pytest.approx(sum(policy["cost_by_kind"].values()), abs=3)
    fixed, facmon = result["policies"]["fixed_interval"], result["policies"]["facmon"]
    assert result["cost_ratio_vs_fixed"] == pytest.approx(facmon["total_cost"] / fixed["total_cost"], abs=1e-3)
    # The fixed interval is chosen in hindsight from a grid that includes "never": never worse than run to failure.
    assert fixed["total_cost"] <= result["policies"]["run_to_failure"]["total_cost"]
