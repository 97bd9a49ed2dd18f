import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.analytics.stats.intervals import nps_adjusted_wald, wilson


def test_wilson_matches_a_known_value():
    # 8 of 10 at 95%: 0.4902 .. 0.9433 (Wilson 1927; scipy binomtest(...).proportion_ci("wilson"))
    interval = wilson(8, 10)
    assert interval.low == pytest.approx(0.4902, abs=1e-4)
    assert interval.high == pytest.approx(0.9433, abs=1e-4)


def test_adjusted_wald_adds_three_and_three_quarters():
    # p' = 50.75/103, d' = 20.75/103 -> centre 0.29126, half-width 1.96*sqrt((0.6942-0.0848)/103)
    interval = nps_adjusted_wald(50, 20, 100)
    assert (interval.low + interval.high) / 2 == pytest.approx(30 / 103, abs=1e-9)
    assert interval.high - interval.low == pytest.approx(2 * 0.15076, abs=1e-3)


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_stays_inside_zero_one(successes, extra):
    interval = wilson(successes, successes + extra)
    if successes + extra == 0:
        assert interval is None
    else:
        assert 0 <= interval.low <= successes / (successes + extra) <= interval.high <= 1


def test_inconsistent_counts_raise():
    with pytest.raises(ValueError):
        wilson(5, 3)
    with pytest.raises(ValueError):
        nps_adjusted_wald(3, 3, 5)
