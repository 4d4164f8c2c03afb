"""Priors per asset kind: remaining life from a rated life and a Weibull shape, for assets with no history.

Each prior is a two-parameter Weibull life in the kind's usage unit, S(t) = exp(-(t / eta) ** beta), fixed by
one rated point (``rated`` units of use at which ``rated_fraction`` of units have failed) and a shape. Given
the used life ``u`` on the meter, the remaining life ``x`` follows the conditional survival
S(u + x) / S(u), so its quantile q is ``eta * ((u / eta) ** beta - ln(1 - q)) ** (1 / beta) - u`` and the
probability of failing within the next ``x`` units is ``1 - S(u + x) / S(u)``. Days = usage / rate of use.

Sources (also in docs/predictor.md):
- Pump bearing: ISO 281 defines the basic rating life L10, the life that 90 % of a group of bearings reach
  (10 % fail before it); API 610 asks for L10 >= 25,000 h at rated conditions for pump bearings. Bearing
  lives scatter with a Weibull shape of about 1.5 (the exponent ISO 281's life-reliability factor a1
  is built on), so eta = L10 / (-ln 0.9) ** (1 / 1.5), about 4.5 x L10.
- LED luminaire: L70 is the burn time to 70 % of initial lumen output. IES TM-21 projects it from an LM-80
  test and allows a projection to at most six times the test duration: a 10,000 h LM-80 test supports a
  claim of at most "L70 > 60,000 h", whatever the fitted curve says. The prior therefore takes
  L70 = 60,000 h (not a catalogue's 100,000 h) as the median luminaire's life; past 60,000 burn hours the
  prior is beyond what TM-21 validates. The shape 3 (a wear-out with little scatter) is our assumption.
- Door operator: manufacturers rate elevator door operators for 1-3 million cycles; the prior takes
  2,000,000 cycles as the median (the rated life in predictor/features.py) with shape 2, our assumption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.domain import AssetKind


@dataclass(frozen=True, slots=True)
class Prior:
    """A Weibull life in ``unit``: ``rated_fraction`` of units fail before ``rated``; shape ``beta``."""

    name: str
    version: str
    unit: str
    rated: float
    rated_fraction: float
    beta: float
    default_rate_per_day: float  # use per day when the asset's meter gives none
    source: str

    @property
    def eta(self) -> float:
        """Scale: S(rated) = 1 - rated_fraction solved for eta."""
        return float(self.rated / (-math.log(1.0 - self.rated_fraction)) ** (1.0 / self.beta))

    def survival(self, used: float) -> float:
        return math.exp(-((max(used, 0.0) / self.eta) ** self.beta))

    def remaining(self, used: float, q: float) -> float:
        """The q-quantile of remaining life (usage units) given ``used`` units already used."""
        if not 0.0 < q < 1.0:
            raise ValueError("q must lie in (0, 1)")
        used = max(used, 0.0)
        z = (used / self.eta) ** self.beta - math.log(1.0 - q)
        return float(self.eta * z ** (1.0 / self.beta)) - used

    def p_fail(self, used: float, within: float) -> float:
        """P(failure within the next ``within`` units | survived ``used``)."""
        used = max(used, 0.0)
        hazard = ((used + max(within, 0.0)) / self.eta) ** self.beta - (used / self.eta) ** self.beta
        return 1.0 - math.exp(-hazard)


PRIORS: dict[AssetKind, Prior] = {
    AssetKind.PUMP: Prior("prior-pump", "1", "h", rated=25_000.0, rated_fraction=0.10, beta=1.5,
                          default_rate_per_day=12.0,
                          source="ISO 281 L10 (10 % fail); API 610 L10 >= 25,000 h; Weibull shape 1.5"),
    AssetKind.LIGHTING: Prior("prior-lighting", "1", "h", rated=60_000.0, rated_fraction=0.50, beta=3.0,
                              default_rate_per_day=12.0,
                              source="IES TM-21: L70 at most 6 x a 10,000 h LM-80 test = 60,000 h (median)"),
    AssetKind.ELEVATOR: Prior("prior-elevator", "1", "cycles", rated=2_000_000.0, rated_fraction=0.50,
                              beta=2.0, default_rate_per_day=350.0,
                              source="door operator rated 2,000,000 cycles (median), shape 2 assumed"),
}
