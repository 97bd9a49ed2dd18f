"""Net Promoter Score: % promoters (9–10) − % detractors (0–6) on the 0–10 scale."""

import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from opencx.analytics.metrics._validate import grouped_scores, rating_column
from opencx.analytics.result import Score
from opencx.analytics.stats.intervals import nps_adjusted_wald


def nps_from_counts(*, n: int, promoters: int, detractors: int, confidence: float = 0.95) -> Score:
    """NPS (−100..100) with its adjusted-Wald interval, from additive counts."""
    interval = nps_adjusted_wald(promoters, detractors, n, confidence)
    if interval is None:
        return Score.empty()
    return Score(
        value=100.0 * (promoters - detractors) / n,
        n=n,
        ci_low=100.0 * interval.low,
        ci_high=100.0 * interval.high,
    )


def classify(score: int) -> int:
    """+1 promoter, 0 passive, −1 detractor; anything but an integer 0..10 is an error."""
    if isinstance(score, bool) or not isinstance(score, numbers.Integral):
        raise ValueError(f"NPS scores must be whole numbers 0–10, got {score!r}")
    if not 0 <= score <= 10:
        raise ValueError(f"NPS scores must be 0–10, got {score}")
    return 1 if score >= 9 else (-1 if score <= 6 else 0)


def nps(scores: Iterable[int], confidence: float = 0.95) -> Score:
    """NPS of raw 0–10 scores; invalid scores raise instead of being dropped."""
    n = promoters = detractors = 0
    for position, score in enumerate(scores):
        try:
            code = classify(score)
        except ValueError as error:
            raise ValueError(f"score #{position}: {error}") from None
        n += 1
        promoters += code == 1
        detractors += code == -1
    return nps_from_counts(n=n, promoters=promoters, detractors=detractors, confidence=confidence)


def nps_by(
    frame: pd.DataFrame,
    by: Sequence[str],
    *,
    score_column: str = "score",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """NPS per group from one row per answer: the group columns, then value, n, ci_low, ci_high.

    Counts (n, promoters, detractors) are summed per group and each interval comes from them,
    so the result equals `nps_from_counts` on any rollup of the same rows.
    """
    values = rating_column(frame, score_column, 0, 10, "NPS")
    return grouped_scores(
        frame,
        by,
        {
            "_n": np.ones(len(values), dtype="int64"),
            "_promoters": (values >= 9).astype("int64"),
            "_detractors": (values <= 6).astype("int64"),
        },
        lambda c: nps_from_counts(
            n=c["_n"], promoters=c["_promoters"], detractors=c["_detractors"], confidence=confidence
        ),
    )
