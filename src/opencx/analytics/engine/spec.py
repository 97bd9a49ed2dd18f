"""What an engine computes: a metric's valid points, its good and bad sides, and its variants.

Every engine reduces rows to the same additive counts per group (see `COUNT_COLUMNS`); the score
and its interval then come from those counts with the metric's own functions, so a score is the
same number whichever engine counted the rows.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from opencx.analytics.engine import arrays
from opencx.analytics.metrics.ces import CesScale, net_from_counts
from opencx.analytics.metrics.csat import Scale, mean_from_sums
from opencx.analytics.metrics.nps import nps_from_counts
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.result import Score

# n: valid answers; good: promoters (NPS), satisfied (CSAT), good side (CES); bad: detractors
# (NPS), bad side (CES), 0 for CSAT; sum and sum_sq: Σ score and Σ score² for the mean variants.
COUNT_COLUMNS = ("n", "good", "bad", "sum", "sum_sq")
SCORE_COLUMNS = ("value", "n", "ci_low", "ci_high")
PERIODS = ("month", "week", "day")


@dataclass(frozen=True)
class MetricSpec:
    """A rating metric as the engines see it: valid whole-number points low..high and two sides."""

    name: str
    low: int
    high: int
    good: frozenset[int]
    bad: frozenset[int]
    variants: tuple[str, ...]

    def __post_init__(self) -> None:
        outside = sorted(p for p in self.good | self.bad if not self.low <= p <= self.high)
        if outside:
            raise ValueError(f"point(s) {outside} lie outside {self.low}–{self.high}")
        if self.good & self.bad:
            raise ValueError(f"point(s) {sorted(self.good & self.bad)} are both good and bad")

    @property
    def points(self) -> range:
        return range(self.low, self.high + 1)

    @property
    def default_variant(self) -> str:
        return self.variants[0]

    def describe(self) -> str:
        return f"{self.name.upper()} scores must be whole numbers {self.low}–{self.high}"

    def variant(self, variant: str | None) -> str:
        """The variant asked for (the metric's default when None), checked."""
        chosen = self.default_variant if variant is None else variant
        if chosen not in self.variants:
            raise ValueError(f"{self.name} variant must be one of {self.variants}, got {chosen!r}")
        return chosen

    def score_arrays(
        self,
        counts: Mapping[str, Any] | pd.DataFrame,
        *,
        variant: str | None = None,
        confidence: float = 0.95,
    ) -> tuple[Any, Any, Any]:
        """value, ci_low, ci_high arrays for many groups at once (NaN where undefined)."""
        chosen = self.variant(variant)
        if chosen in ("nps", "net"):
            return arrays.trinomial(counts["n"], counts["good"], counts["bad"], confidence)
        if chosen in ("share", "percent_agree"):
            return arrays.wilson_share(counts["n"], counts["good"], confidence)
        return arrays.t_mean(counts["n"], counts["sum"], counts["sum_sq"], confidence)

    def score(
        self,
        *,
        n: int,
        good: int,
        bad: int,
        sum: int,  # noqa: A002 - the column name
        sum_sq: int,
        variant: str | None = None,
        confidence: float = 0.95,
    ) -> Score:
        """The score of one group from its additive counts."""
        chosen = self.variant(variant)
        if chosen == "nps":
            return nps_from_counts(n=n, promoters=good, detractors=bad, confidence=confidence)
        if chosen in ("share", "percent_agree"):
            return share_from_counts(n=n, satisfied=good, confidence=confidence)
        if chosen == "net":
            return net_from_counts(n=n, good=good, bad=bad, confidence=confidence)
        return mean_from_sums(n=n, total=sum, total_sq=sum_sq, confidence=confidence)


def nps_spec() -> MetricSpec:
    """NPS: 0–10, promoters 9–10, detractors 0–6 (Bain)."""
    return MetricSpec("nps", 0, 10, frozenset({9, 10}), frozenset(range(7)), ("nps",))


def csat_spec(scale: Scale) -> MetricSpec:
    """CSAT on a stored scale and satisfied set: % satisfied ("share") or the mean rating."""
    return MetricSpec(
        "csat", scale.low, scale.high, scale.satisfied, frozenset(), ("share", "mean")
    )


def ces_spec(scale: CesScale) -> MetricSpec:
    """CES on a stored scale with its polarity: % agree (good side), mean, or net index."""
    return MetricSpec(
        "ces", 1, scale.points, scale.good_side, scale.bad_side, ("percent_agree", "mean", "net")
    )
