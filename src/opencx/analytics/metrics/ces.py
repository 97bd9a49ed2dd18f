"""Customer Effort Score with the scale length and polarity stored explicitly, never assumed.

Variants (shared reference, section 1.3):
- "percent_agree": the share of answers on the good side (easy / low effort), Wilson interval;
- "mean": the mean rating on the scale as given, Student-t interval;
- "net": % good side − % bad side (−100..100), adjusted-Wald interval on the −1/0/+1 codes — the
  same trinomial interval as NPS (`nps_adjusted_wald`, Rocks 2016).

On CES 1.0 (1 = very low effort … 5 = very high effort) lower is better, so its good side is
{1, 2}; on CES 2.0 (1 = strongly disagree … 7 = strongly agree that it was easy) higher is better
and the good side is {5, 6, 7}. "% choosing 4–5" on CES 1.0 is the *high-effort* share.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opencx.analytics.metrics._validate import (
    check_counts,
    check_ratings,
    grouped_scores,
    rating_column,
)
from opencx.analytics.metrics.csat import grouped_mean, mean_from_sums
from opencx.analytics.metrics.nps import nps_from_counts
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.result import Score

VARIANTS = ("percent_agree", "mean", "net")


@dataclass(frozen=True)
class CesScale:
    """A 1..points CES scale, its direction, and (optionally) its good and bad sides.

    Without `good`/`bad`, the good side is every point strictly better than the midpoint and the
    bad side every point strictly worse (5 points, higher better: good {4, 5}, bad {1, 2};
    7 points, higher better: good {5, 6, 7}, bad {1, 2, 3}).
    """

    points: int
    higher_is_better: bool
    good: frozenset[int] | None = None
    bad: frozenset[int] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 2:
            raise ValueError(f"a CES scale needs a whole number of points ≥ 2, got {self.points!r}")
        if not isinstance(self.higher_is_better, bool):
            raise ValueError(
                f"higher_is_better must be True or False, got {self.higher_is_better!r}"
            )
        middle = (1 + self.points) / 2
        upper = frozenset(p for p in range(1, self.points + 1) if p > middle)
        lower = frozenset(p for p in range(1, self.points + 1) if p < middle)
        good = frozenset(self.good) if self.good is not None else None
        bad = frozenset(self.bad) if self.bad is not None else None
        if good is None:
            good = upper if self.higher_is_better else lower
        if bad is None:
            bad = lower if self.higher_is_better else upper
        for label, side in (("good", good), ("bad", bad)):
            outside = sorted(p for p in side if not 1 <= p <= self.points)
            if outside:
                raise ValueError(f"{label} point(s) {outside} lie outside 1–{self.points}")
        if not good:
            raise ValueError("the good side of a CES scale cannot be empty")
        best = self.points if self.higher_is_better else 1
        if best not in good:
            direction = "higher" if self.higher_is_better else "lower"
            raise ValueError(
                f"good side {sorted(good)} does not include the best point {best} "
                f"({direction} is better): check the scale's polarity"
            )
        if good & bad:
            raise ValueError(f"point(s) {sorted(good & bad)} are on both the good and bad side")
        if bad and (min(good) <= max(bad) if self.higher_is_better else max(good) >= min(bad)):
            raise ValueError(
                f"good side {sorted(good)} and bad side {sorted(bad)} overlap in order "
                f"for a scale where {'higher' if self.higher_is_better else 'lower'} is better"
            )
        object.__setattr__(self, "good", good)
        object.__setattr__(self, "bad", bad)

    @property
    def good_side(self) -> frozenset[int]:
        assert self.good is not None  # set in __post_init__
        return self.good

    @property
    def bad_side(self) -> frozenset[int]:
        assert self.bad is not None  # set in __post_init__
        return self.bad

    def check(self, scores: Iterable[object]) -> list[int]:
        return check_ratings(scores, 1, self.points, f"CES (1–{self.points})")


CES_1 = CesScale(points=5, higher_is_better=False, name="CES 1.0 (1 very low – 5 very high effort)")
CES_2 = CesScale(points=7, higher_is_better=True, name="CES 2.0 (1 strongly disagree – 7 agree)")
AGREE_5 = CesScale(points=5, higher_is_better=True, name="1–5 agreement that it was easy")


def net_from_counts(*, n: int, good: int, bad: int, confidence: float = 0.95) -> Score:
    """% good − % bad (−100..100): the NPS arithmetic and its adjusted-Wald interval."""
    return nps_from_counts(n=n, promoters=good, detractors=bad, confidence=confidence)


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")


def _from_tallies(
    *, n: int, good: int, bad: int, total: int, total_sq: int, variant: str, confidence: float
) -> Score:
    if variant == "percent_agree":
        return share_from_counts(n=n, satisfied=good, confidence=confidence)
    if variant == "net":
        return net_from_counts(n=n, good=good, bad=bad, confidence=confidence)
    return mean_from_sums(n=n, total=total, total_sq=total_sq, confidence=confidence)


def ces_from_counts(
    counts: Mapping[object, int],
    scale: CesScale,
    variant: str = "percent_agree",
    confidence: float = 0.95,
) -> Score:
    """CES from a {scale point: number of answers} table."""
    _check_variant(variant)
    checked = check_counts(counts, 1, scale.points, f"CES (1–{scale.points})")
    return _from_tallies(
        n=sum(checked.values()),
        good=sum(c for p, c in checked.items() if p in scale.good_side),
        bad=sum(c for p, c in checked.items() if p in scale.bad_side),
        total=sum(p * c for p, c in checked.items()),
        total_sq=sum(p * p * c for p, c in checked.items()),
        variant=variant,
        confidence=confidence,
    )


def ces(
    scores: Iterable[object],
    scale: CesScale,
    variant: str = "percent_agree",
    confidence: float = 0.95,
) -> Score:
    """CES of raw ratings; out-of-scale or non-integer scores raise, naming their position."""
    _check_variant(variant)
    checked = scale.check(scores)
    return _from_tallies(
        n=len(checked),
        good=sum(s in scale.good_side for s in checked),
        bad=sum(s in scale.bad_side for s in checked),
        total=sum(checked),
        total_sq=sum(s * s for s in checked),
        variant=variant,
        confidence=confidence,
    )


def ces_percent_agree(scores: Iterable[object], scale: CesScale, confidence: float = 0.95) -> Score:
    """% of answers on the good (easy / low-effort) side, with a Wilson interval."""
    return ces(scores, scale, "percent_agree", confidence)


def ces_mean(scores: Iterable[object], scale: CesScale, confidence: float = 0.95) -> Score:
    """Mean rating on the scale as given (its polarity unchanged), with a t-interval."""
    return ces(scores, scale, "mean", confidence)


def ces_net(scores: Iterable[object], scale: CesScale, confidence: float = 0.95) -> Score:
    """% good side − % bad side, with the adjusted-Wald trinomial interval."""
    return ces(scores, scale, "net", confidence)


def ces_by(
    frame: pd.DataFrame,
    by: Sequence[str],
    *,
    scale: CesScale,
    score_column: str = "score",
    variant: str = "percent_agree",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """CES per group: the group columns, then value, n, ci_low, ci_high."""
    _check_variant(variant)
    values = rating_column(frame, score_column, 1, scale.points, f"CES (1–{scale.points})")
    if variant == "mean":
        return grouped_mean(frame, by, values, confidence)
    good = np.isin(values, sorted(scale.good_side)).astype("int64")
    bad = np.isin(values, sorted(scale.bad_side)).astype("int64")
    return grouped_scores(
        frame,
        by,
        {"_n": np.ones(len(values), dtype="int64"), "_good": good, "_bad": bad},
        lambda c: _from_tallies(
            n=c["_n"],
            good=c["_good"],
            bad=c["_bad"],
            total=0,
            total_sq=0,
            variant=variant,
            confidence=confidence,
        ),
    )
