import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from opencx.analytics.stats.sample_size import sample_size_nps, sample_size_proportion

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"


def _cases(metric):
    return [c for c in json.loads(CASES.read_text()) if c["metric"] == metric]


def test_sample_size_cases_exist():
    assert _cases("sample_size_proportion"), "no sample_size_proportion case in metric_cases.json"


@pytest.mark.parametrize("case", _cases("sample_size_proportion"), ids=lambda c: c["source_url"])
def test_published_sample_size_proportion(case):
    inputs = case["inputs"]
    assert set(inputs) <= {"z", "confidence", "p", "margin", "population"}, inputs
    confidence = inputs.get("confidence")
    if "z" in inputs:  # the case states z; turn it into the matching confidence level
        confidence = 2 * stats.norm.cdf(inputs["z"]) - 1
    n = sample_size_proportion(
        inputs["margin"],
        confidence=confidence,
        p=inputs.get("p", 0.5),
        population=inputs.get("population"),
    )
    assert abs(n - case["expected"]) <= case["tolerance"]


def test_nps_sample_size_cybaea():
    # p = d = 1/3 -> V = 2/3; 1.96² × (2/3) / 0.05² = 1024.4 -> 1025 (Cybaea: "about 1,024").
    assert sample_size_nps(5, promoters=1 / 3, detractors=1 / 3) == 1025
    # Worst case V = 1: 1.96² / 0.05² = 1536.6 -> 1537.
    assert sample_size_nps(5) == 1537


def test_finite_population_correction():
    # 384.15 / (1 + 383.15/1000) = 277.7 -> 278, the usual table value for N = 1000.
    assert sample_size_proportion(0.05, population=1000) == 278
    assert sample_size_proportion(0.05, population=10) <= 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"margin": 5},
        {"margin": 0},
        {"margin": 0.05, "p": 0},
        {"margin": 0.05, "confidence": 1},
        {"margin": 0.05, "population": 0},
    ],
)
def test_proportion_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        sample_size_proportion(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"margin_points": 0},
        {"margin_points": 5, "promoters": 0.7, "detractors": 0.5},
        {"margin_points": 5, "promoters": 0, "detractors": 0},
        {"margin_points": 5, "promoters": -0.1},
    ],
)
def test_nps_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        sample_size_nps(**kwargs)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.005, 0.3), st.floats(0.01, 0.99), st.floats(0.8, 0.995))
def test_the_planned_n_achieves_the_margin(margin, p, confidence):
    n = sample_size_proportion(margin, confidence, p)
    z = stats.norm.ppf(0.5 + confidence / 2)
    assert z * math.sqrt(p * (1 - p) / n) <= margin + 1e-12
    if n > 1:
        assert z * math.sqrt(p * (1 - p) / (n - 1)) > margin - 1e-9
    assert sample_size_proportion(margin / 2, confidence, p) >= n


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 30), st.floats(0.01, 0.6), st.floats(0, 0.4))
def test_nps_size_achieves_the_margin(points, promoters, detractors):
    n = sample_size_nps(points, promoters=promoters, detractors=detractors)
    variance = promoters + detractors - (promoters - detractors) ** 2
    assert 100 * 1.959964 * math.sqrt(variance / n) <= points * (1 + 1e-6)
