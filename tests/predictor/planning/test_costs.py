"""The cost file: failure costs per kind, expected cost of waiting, clear mistakes."""

from __future__ import annotations

import pytest

from core.domain import AssetKind
from core.errors import ConfigError
from predictor.planning.costs import expected_failure_cost, packaged_costs, parse_costs
from predictor.planning.problem import AssetState

COSTS = """
visit_cost: 50
failure:
  pump: {repair: 1000, downtime_h: 10, downtime_cost_per_h: 100, emergency_premium: 500, resident_impact: 500}
"""


def test_a_failure_costs_repair_downtime_premium_and_resident_impact() -> None:
    costs = parse_costs(COSTS, "costs.yaml")
    assert costs.failure_cost(AssetKind.PUMP) == 1000 + 10 * 100 + 500 + 500
    assert costs.visit_cost == 50
    assert costs.failure_cost(AssetKind.LIGHTING) == 0.0
    assert set(packaged_costs().failure) == set(AssetKind)


def test_expected_failure_cost_is_the_probability_of_failing_before_the_day_times_the_cost() -> None:
    costs = parse_costs(COSTS, "costs.yaml")
    pump = AssetState("p1", "s1", AssetKind.PUMP, rul_p10_days=10, rul_p50_days=30, rul_p90_days=60)
    assert expected_failure_cost(pump, costs, 10) == pytest.approx(0.1 * 3000)
    assert expected_failure_cost(pump, costs, 30) == pytest.approx(0.5 * 3000)
    assert expected_failure_cost(AssetState("p2", "s1", AssetKind.PUMP), costs, 30) == 0.0


@pytest.mark.parametrize(("text", "message"), [
    (COSTS.replace("repair: 1000", "repair: -1"), "costs.yaml: failure.pump.repair: must be a number"),
    (COSTS.replace("repair: 1000, ", ""), "costs.yaml: failure.pump.repair: is required"),
    (COSTS.replace("pump:", "boiler:"), "costs.yaml: failure.boiler: not an asset kind"),
    (COSTS.replace("visit_cost", "visits"), "costs.yaml: visits: unknown key"),
    ("- 1", "costs.yaml: must be a mapping"),
])
def test_mistakes_name_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_costs(text, "costs.yaml")
    assert message in str(raised.value)
