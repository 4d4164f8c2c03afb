"""What the planner weighs: failure costs per kind (costs.yaml) and the expected cost of waiting.

A failure costs the repair, the hours out of service times their cost, the premium of an emergency
call-out and the impact on residents (complaints, compensation). Leaving an asset until day ``d`` costs
P(failure before ``d``) times that; a planned task costs its rule's ``planned_cost``. Every mistake in the
file is a ConfigError naming the file and the key.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from core.configfile import load_yaml, read_config_file
from core.domain import AssetKind
from core.errors import ConfigError
from predictor.planning.problem import AssetState, CostModel, FailureCost

PACKAGED = "costs.yaml"
_TOP = {"visit_cost", "policy_miss_cost", "failure"}
_FAILURE = ("repair", "downtime_h", "downtime_cost_per_h", "emergency_premium", "resident_impact")


@cache
def packaged_costs() -> CostModel:
    """The cost model shipped with facmon (predictor/planning/costs.yaml)."""
    return parse_costs(resources.files("predictor.planning").joinpath(PACKAGED).read_text(encoding="utf-8"),
                       f"predictor/planning/{PACKAGED}")


def load_costs(path: Path | None = None) -> CostModel:
    """A portfolio's own cost file (the packaged one when ``path`` is None)."""
    return packaged_costs() if path is None else parse_costs(read_config_file(path, "costs"), str(path))


def parse_costs(text: str, source: str) -> CostModel:
    document = load_yaml(text, source)
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: must be a mapping with {', '.join(sorted(_TOP))}")
    unknown = sorted(str(key) for key in document if key not in _TOP)
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}: unknown key (allowed: {', '.join(sorted(_TOP))})")
    failure = document.get("failure")
    if not isinstance(failure, dict):
        raise ConfigError(f"{source}: failure: must be a mapping of asset kind to failure costs")
    by_kind = {_kind(kind, source): _failure(body, source, f"failure.{kind}") for kind, body in failure.items()}
    defaults = CostModel({})
    return CostModel(by_kind, _amount(document.get("visit_cost", defaults.visit_cost), source, "visit_cost"),
                     _amount(document.get("policy_miss_cost", defaults.policy_miss_cost), source, "policy_miss_cost"))


def _kind(value: Any, source: str) -> AssetKind:
    try:
        return AssetKind(value)
    except ValueError:
        raise ConfigError(f"{source}: failure.{value}: not an asset kind "
                          f"({', '.join(k.value for k in AssetKind)})") from None


def _failure(body: Any, source: str, key: str) -> FailureCost:
    if not isinstance(body, dict):
        raise ConfigError(f"{source}: {key}: must be a mapping of {', '.join(_FAILURE)}")
    unknown = sorted(str(name) for name in body if name not in _FAILURE)
    if unknown:
        raise ConfigError(f"{source}: {key}.{unknown[0]}: unknown key (allowed: {', '.join(_FAILURE)})")
    missing = [name for name in _FAILURE if name not in body]
    if missing:
        raise ConfigError(f"{source}: {key}.{missing[0]}: is required")
    return FailureCost(*(_amount(body[name], source, f"{key}.{name}") for name in _FAILURE))


def _amount(value: Any, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{source}: {key}: must be a number, 0 or more")
    return float(value)


def expected_failure_cost(asset: AssetState, costs: CostModel, days: float) -> float:
    """P(the asset fails within ``days`` of the horizon's start) times its kind's failure cost."""
    return asset.p_fail_within(days) * costs.failure_cost(asset.kind)
