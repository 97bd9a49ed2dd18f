"""Customer Satisfaction Score: the share of satisfied answers, or the mean rating.

The scale and its satisfied set are stored with each question (`Scale`); the defaults follow the
vendors' rules collected in the shared reference (section 1.2): 1–2 → {2}, 1–3 → {3} (Zendesk's
good/bad mapping, not "top two"), 1–5 → {4, 5}, 1–7 → {6, 7} (a configuration choice: no published
standard), 1–10 → {9, 10} (QuestionPro), and binary bad/good (0/1) → {1}.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from opencx.analytics.metrics._validate import (
    check_counts,
    check_ratings,
    grouped_scores,
    rating_column,
)
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.result import Score

DEFAULT_SATISFIED: dict[tuple[int, int], frozenset[int]] = {
    (0, 1): frozenset({1}),
    (1, 2): frozenset({2}),
    (1, 3): frozenset({3}),
    (1, 5): frozenset({4, 5}),
    (1, 7): frozenset({6, 7}),
    (1, 10): frozenset({9, 10}),
}


@dataclass(frozen=True)
class Scale:
    """A rating scale low..high (whole numbers) and the points that count as satisfied."""

    low: int
    high: int
    satisfied: frozenset[int] = field(default_factory=frozenset)
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"scale {name} must be a whole number, got {value!r}")
        if self.low >= self.high:
            raise ValueError(f"scale needs low < high, got {self.low}..{self.high}")
        satisfied = frozenset(self.satisfied)
        if not satisfied:
            if (self.low, self.high) not in DEFAULT_SATISFIED:
                raise ValueError(
                    f"no default satisfied set for a {self.low}–{self.high} scale; pass satisfied="
                )
            satisfied = DEFAULT_SATISFIED[(self.low, self.high)]
        outside = sorted(p for p in satisfied if not self.low <= p <= self.high)
        if outside:
            raise ValueError(f"satisfied point(s) {outside} lie outside {self.low}–{self.high}")
        if len(satisfied) == self.high - self.low + 1:
            raise ValueError("the satisfied set covers the whole scale; CSAT would always be 100")
        object.__setattr__(self, "satisfied", satisfied)
        if self.labels and len(self.labels) != self.high - self.low + 1:
            raise ValueError(
                f"labels need one name per point ({self.high - self.low + 1}), got {self.labels}"
            )

    @classmethod
    def binary(cls) -> "Scale":
        """Zendesk-style good/bad rating: 0 = bad, 1 = good (labels 'bad', 'good' accepted)."""
        return cls(0, 1, frozenset({1}), labels=("bad", "good"))

    @property
    def points(self) -> range:
        return range(self.low, self.high + 1)

    def check(self, scores: Iterable[object]) -> list[int]:
        """Scores as points of this scale (labels translated), naming the first bad position."""
        if self.labels:
            index = {label: self.low + i for i, label in enumerate(self.labels)}
            scores = (index.get(s, s) if isinstance(s, str) else s for s in scores)
        return check_ratings(scores, self.low, self.high, f"CSAT ({self.low}–{self.high})")


ONE_TO_THREE = Scale(1, 3)
ONE_TO_FIVE = Scale(1, 5)
ONE_TO_SEVEN = Scale(1, 7)
ONE_TO_TEN = Scale(1, 10)
GOOD_BAD = Scale.binary()


def mean_from_sums(*, n: int, total: float, total_sq: float, confidence: float = 0.95) -> Score:
    """Mean with a Student-t interval from additive sums (n, Σx, Σx²); no interval when n < 2."""
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n == 0:
        return Score.empty()
    mean = total / n
    if n == 1:
        return Score(value=float(mean), n=1, ci_low=None, ci_high=None)
    # (nΣx² − (Σx)²) / (n(n−1)); exact when the sums are Python ints, never below 0.
    variance = max((n * total_sq - total * total) / (n * (n - 1)), 0)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * math.sqrt(variance / n)
    return Score(value=float(mean), n=n, ci_low=float(mean - half), ci_high=float(mean + half))


def csat_from_counts(counts: Mapping[object, int], scale: Scale, confidence: float = 0.95) -> Score:
    """% satisfied from a {scale point: number of answers} table, with its Wilson interval."""
    checked = check_counts(counts, scale.low, scale.high, "CSAT")
    n = sum(checked.values())
    satisfied = sum(count for point, count in checked.items() if point in scale.satisfied)
    return share_from_counts(n=n, satisfied=satisfied, confidence=confidence)


def csat(scores: Iterable[object], scale: Scale, confidence: float = 0.95) -> Score:
    """% satisfied (0..100) with its Wilson interval; out-of-scale or non-integer scores raise."""
    checked = scale.check(scores)
    satisfied = sum(score in scale.satisfied for score in checked)
    return share_from_counts(n=len(checked), satisfied=satisfied, confidence=confidence)


def csat_mean(scores: Iterable[object], scale: Scale, confidence: float = 0.95) -> Score:
    """Mean rating on the scale as given, with a t-interval (not a percentage)."""
    checked = scale.check(scores)
    return mean_from_sums(
        n=len(checked),
        total=sum(checked),
        total_sq=sum(s * s for s in checked),
        confidence=confidence,
    )


def csat_by(
    frame: pd.DataFrame,
    by: Sequence[str],
    *,
    scale: Scale,
    score_column: str = "score",
    variant: str = "share",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """CSAT per group: the group columns, then value, n, ci_low, ci_high.

    variant "share" is % satisfied with a Wilson interval; "mean" the mean rating with a t-interval.
    """
    values = rating_column(frame, score_column, scale.low, scale.high, "CSAT", scale.labels)
    if variant == "share":
        satisfied = np.isin(values, sorted(scale.satisfied)).astype("int64")
        return grouped_scores(
            frame,
            by,
            {"_n": np.ones(len(values), dtype="int64"), "_satisfied": satisfied},
            lambda c: share_from_counts(
                n=c["_n"], satisfied=c["_satisfied"], confidence=confidence
            ),
        )
    if variant == "mean":
        return grouped_mean(frame, by, values, confidence)
    raise ValueError(f"variant must be 'share' or 'mean', got {variant!r}")


def grouped_mean(
    frame: pd.DataFrame, by: Sequence[str], values: np.ndarray, confidence: float
) -> pd.DataFrame:
    """Mean with t-interval per group from additive n, Σx, Σx² (shared with CES)."""
    return grouped_scores(
        frame,
        by,
        {"_n": np.ones(len(values), dtype="int64"), "_sum": values, "_sum_sq": values * values},
        lambda c: mean_from_sums(
            n=c["_n"], total=c["_sum"], total_sq=c["_sum_sq"], confidence=confidence
        ),
    )
