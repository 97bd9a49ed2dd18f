import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from opencx.analytics.stats.significance import (
    nps_difference,
    nps_standard_error,
    nps_variance,
    paired_nps_difference,
    proportion_difference,
)

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"


def _cases(metric):
    return [c for c in json.loads(CASES.read_text()) if c["metric"] == metric]


def test_cases_for_this_module_exist_and_have_known_shapes():
    cases = _cases("nps_standard_error")
    assert cases, "metric_cases.json has no nps_standard_error case"
    for case in cases:
        assert {"p_promoter", "p_detractor", "n"} <= set(case["inputs"]), case


@pytest.mark.parametrize("case", _cases("nps_standard_error"), ids=lambda c: c["source_url"])
def test_published_nps_standard_error(case):
    inputs, expected, tol = case["inputs"], case["expected"], case["tolerance"]
    n = inputs["n"]
    promoters, detractors = inputs["p_promoter"] * n, inputs["p_detractor"] * n
    assert promoters == pytest.approx(round(promoters)) and detractors == pytest.approx(
        round(detractors)
    ), "shares must give whole counts"
    promoters, detractors = round(promoters), round(detractors)
    variance = nps_variance(promoters / n, detractors / n)
    if "nps" in expected:
        assert (promoters - detractors) / n == pytest.approx(expected["nps"], abs=tol)
    if "variance_per_response" in expected:
        assert variance == pytest.approx(expected["variance_per_response"], abs=tol)
    if "sd_per_response" in expected:
        assert math.sqrt(variance) == pytest.approx(expected["sd_per_response"], abs=tol)
    # The library reports points (0..100 scale); the case is on the 0..1 scale.
    se_points = nps_standard_error(n, promoters, detractors)
    assert se_points / 100 == pytest.approx(expected["se"], abs=tol)


def test_standard_error_matches_the_sd_of_codes():
    codes = np.array([1] * 40 + [0] * 35 + [-1] * 25)
    expected = 100 * codes.std(ddof=0) / math.sqrt(len(codes))
    assert nps_standard_error(100, 40, 25) == pytest.approx(expected)


def test_finite_population_correction_shrinks_the_error():
    full = nps_standard_error(100, 40, 25)
    assert nps_standard_error(100, 40, 25, population=200) == pytest.approx(
        full * math.sqrt(100 / 199)
    )
    assert nps_standard_error(100, 40, 25, population=100) == 0
    with pytest.raises(ValueError, match="population"):
        nps_standard_error(100, 40, 25, population=50)


def test_nps_difference_adjusted_wald_by_hand():
    # a: p' = 50.75/103, d' = 20.75/103; b: p' = 40.75/103, d' = 30.75/103
    result = nps_difference((100, 50, 20), (100, 40, 30))
    pa, da, pb, db = 50.75 / 103, 20.75 / 103, 40.75 / 103, 30.75 / 103
    se = math.sqrt((pa + da - (pa - da) ** 2) / 103 + (pb + db - (pb - db) ** 2) / 103)
    centre = (pa - da) - (pb - db)
    assert result.difference == pytest.approx(20.0)
    assert result.statistic == pytest.approx(centre / se)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(centre / se))
    assert result.ci_low == pytest.approx(100 * (centre - 1.959964 * se), abs=1e-3)
    assert result.ci_high == pytest.approx(100 * (centre + 1.959964 * se), abs=1e-3)


def test_nps_difference_wald_equals_welch_style_z_on_codes():
    a = np.array([1] * 50 + [0] * 30 + [-1] * 20)
    b = np.array([1] * 40 + [0] * 30 + [-1] * 30)
    se = math.sqrt(a.var() / len(a) + b.var() / len(b))
    result = nps_difference((100, 50, 20), (100, 40, 30), method="wald")
    assert result.statistic == pytest.approx((a.mean() - b.mean()) / se)
    assert (result.ci_low + result.ci_high) / 2 == pytest.approx(20.0)


def test_identical_groups_are_not_different():
    result = nps_difference((80, 30, 20), (80, 30, 20))
    assert result.difference == 0 and result.statistic == 0 and result.p_value == 1
    assert result.ci_low < 0 < result.ci_high


@pytest.mark.parametrize(
    "a",
    [(10, 6, 5), (-1, 0, 0), (10, 1.5, 0), (0, 0, 0), (10, 2), (10, True, 0)],
)
def test_nps_difference_rejects_bad_counts(a):
    with pytest.raises(ValueError):
        nps_difference(a, (10, 5, 2))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.data(), st.integers(1, 400), st.floats(0.5, 0.999))
def test_nps_difference_properties(n_a, data, n_b, confidence):
    p_a = data.draw(st.integers(0, n_a))
    d_a = data.draw(st.integers(0, n_a - p_a))
    p_b = data.draw(st.integers(0, n_b))
    d_b = data.draw(st.integers(0, n_b - p_b))
    forward = nps_difference((n_a, p_a, d_a), (n_b, p_b, d_b), confidence)
    backward = nps_difference((n_b, p_b, d_b), (n_a, p_a, d_a), confidence)
    assert -200 <= forward.ci_low <= forward.ci_high <= 200
    assert forward.difference == pytest.approx(-backward.difference)
    assert forward.p_value == pytest.approx(backward.p_value)
    assert 0 <= forward.p_value <= 1
    # The interval excludes 0 exactly when the test rejects at the matching level.
    if abs(forward.p_value - (1 - confidence)) > 1e-6:
        excludes_zero = forward.ci_low > 0 or forward.ci_high < 0
        assert excludes_zero == (forward.p_value < 1 - confidence)


# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score).
NEWCOMBE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE)
def test_proportion_difference_matches_newcombe_table(counts, interval):
    result = proportion_difference(*counts)
    assert result.ci_low / 100 == pytest.approx(interval[0], abs=6e-5)
    assert result.ci_high / 100 == pytest.approx(interval[1], abs=6e-5)


def test_proportion_difference_z_test_matches_chi_square():
    # The pooled z test squared is Pearson's chi-square on the 2x2 table (no continuity fix).
    result = proportion_difference(56, 70, 48, 80)
    chi2, p, _, _ = stats.chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert result.difference == pytest.approx(20.0)
    assert result.statistic**2 == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p)


@pytest.mark.parametrize("args", [(5, 4, 1, 2), (1, 0, 1, 2), (-1, 5, 1, 2), (1.0, 5, 1, 2)])
def test_proportion_difference_rejects_bad_counts(args):
    with pytest.raises(ValueError):
        proportion_difference(*args)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data(), st.integers(1, 300))
def test_proportion_interval_contains_the_difference(n1, data, n2):
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    result = proportion_difference(k1, n1, k2, n2)
    assert -100 - 1e-9 <= result.ci_low <= result.difference <= result.ci_high <= 100 + 1e-9


def test_paired_difference_matches_scipy_paired_t():
    rng = np.random.default_rng(3)
    before = rng.choice([-1, 0, 1], size=60, p=[0.3, 0.3, 0.4])
    after = np.where(rng.random(60) < 0.3, 1, before)
    result = paired_nps_difference(before.tolist(), after.tolist())
    reference = stats.ttest_rel(after, before)
    low, high = reference.confidence_interval(0.95)
    assert result.difference == pytest.approx(100 * (after - before).mean())
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.ci_low == pytest.approx(100 * low)
    assert result.ci_high == pytest.approx(100 * high)


def test_paired_difference_with_no_change():
    result = paired_nps_difference([1, 0, -1], [1, 0, -1])
    assert (result.difference, result.statistic, result.p_value) == (0, 0, 1)


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ([1, 0], [1], "pair"),
        ([1, 2], [1, 0], "before #1"),
        ([1, 0], [1, "0"], "after #1"),
        ([1], [0], "at least 2"),
        ([True, 0], [1, 0], "before #0"),
    ],
)
def test_paired_difference_rejects_bad_codes(before, after, message):
    with pytest.raises(ValueError, match=message):
        paired_nps_difference(before, after)


def test_mean_difference_from_sums_is_welchs_test():
    from scipy import stats as scipy_stats

    from opencx.analytics.stats.significance import mean_difference_from_sums

    first, second = [3, 4, 2, 5, 3, 4, 1], [4, 5, 5, 4, 3, 5, 4, 5]

    def sums(values):
        return len(values), float(sum(values)), float(sum(v * v for v in values))

    both = mean_difference_from_sums(sums(first), sums(second))
    expected = scipy_stats.ttest_ind(first, second, equal_var=False)
    assert both.p_value == pytest.approx(expected.pvalue)
    assert both.statistic == pytest.approx(expected.statistic)
    lower = mean_difference_from_sums(sums(first), sums(second), alternative="less")
    assert lower.p_value == pytest.approx(expected.pvalue / 2)
    assert mean_difference_from_sums((1, 3.0, 9.0), sums(second)) is None
