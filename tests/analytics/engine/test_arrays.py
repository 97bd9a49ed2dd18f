"""The array formulas equal the scalar metric functions group by group."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.engine.arrays import t_mean, trinomial, wilson_share
from opencx.analytics.metrics.ces import net_from_counts
from opencx.analytics.metrics.csat import mean_from_sums
from opencx.analytics.metrics.proportion import share_from_counts


@st.composite
def groups(draw):
    """Counts for a handful of groups of 1–10 answers on a 1–10 scale (n = 0 included)."""
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        scores = draw(st.lists(st.integers(1, 10), max_size=40))
        rows.append(
            (
                len(scores),
                sum(s >= 8 for s in scores),
                sum(s <= 3 for s in scores),
                sum(scores),
                sum(s * s for s in scores),
            )
        )
    return rows


def _same(got: float, score_value: float | None) -> None:
    if score_value is None:
        assert math.isnan(got)
    else:
        assert got == pytest.approx(score_value, abs=1e-12, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(groups(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_arrays_equal_the_scalar_functions(rows, confidence):
    n, good, bad, total, squares = (np.array(column) for column in zip(*rows, strict=True))
    results = {
        "net": (trinomial(n, good, bad, confidence), net_from_counts),
        "share": (wilson_share(n, good, confidence), share_from_counts),
        "mean": (t_mean(n, total, squares, confidence), mean_from_sums),
    }
    for i, (k, g, b, s, q) in enumerate(rows):
        scalar = {
            "net": net_from_counts(n=k, good=g, bad=b, confidence=confidence),
            "share": share_from_counts(n=k, satisfied=g, confidence=confidence),
            "mean": mean_from_sums(n=k, total=s, total_sq=q, confidence=confidence),
        }
        for name, ((value, low, high), _) in results.items():
            expected = scalar[name]
            _same(value[i], expected.value)
            _same(low[i], expected.ci_low)
            _same(high[i], expected.ci_high)


def test_inconsistent_counts_raise():
    with pytest.raises(ValueError, match="inconsistent"):
        trinomial([3], [2], [2], 0.95)
    with pytest.raises(ValueError, match="inconsistent"):
        wilson_share([3], [4], 0.95)
    with pytest.raises(ValueError, match="confidence"):
        t_mean([3], [6], [14], 1.5)


def test_interval_bounds_hold_at_the_extremes():
    value, low, high = wilson_share([5, 5], [0, 5], 0.95)
    assert value.tolist() == [0.0, 100.0] and low[0] == 0.0 and high[1] == 100.0
    value, low, high = trinomial([4], [4], [0], 0.95)
    assert value[0] == 100.0 and high[0] <= 100.0 and low[0] < 100.0
