"""Top-box share metrics (CSAT %, CES % agree) from counts, with Wilson intervals."""

from opencx.analytics.result import Score
from opencx.analytics.stats.intervals import wilson


def share_from_counts(*, n: int, satisfied: int, confidence: float = 0.95) -> Score:
    """satisfied / n × 100 with its Wilson interval."""
    interval = wilson(satisfied, n, confidence)
    if interval is None:
        return Score.empty()
    return Score(
        value=100.0 * satisfied / n, n=n, ci_low=100.0 * interval.low, ci_high=100.0 * interval.high
    )
