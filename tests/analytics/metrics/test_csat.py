"""CSAT: published cases, scale defaults, rejection of bad scores, intervals, grouping."""

import json
import re
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from opencx.analytics.metrics.csat import (
    GOOD_BAD,
    ONE_TO_FIVE,
    ONE_TO_SEVEN,
    ONE_TO_TEN,
    ONE_TO_THREE,
    Scale,
    csat,
    csat_by,
    csat_from_counts,
    csat_mean,
    mean_from_sums,
)

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
NAMES = ("csat_top2box_1to5", "csat_positive_share", "wilson_ci_95")


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in NAMES]


def test_every_case_name_is_present():
    assert {c["metric"] for c in _cases()} == set(NAMES)


def _scale_for(metric):
    found = re.search(r"(\d+)to(\d+)", metric)
    return Scale(int(found[1]), int(found[2])) if found else ONE_TO_FIVE


def _published_score(case):
    inputs, metric = case["inputs"], case["metric"]
    if metric == "wilson_ci_95" and set(inputs) == {"successes", "failures", "z"}:
        confidence = 2 * NormalDist().cdf(inputs["z"]) - 1
        counts = {1: inputs["successes"], 0: inputs["failures"]}
        score = csat_from_counts(counts, GOOD_BAD, confidence=confidence)
        return [score.ci_low / 100, score.ci_high / 100]
    scale = _scale_for(metric)
    if set(inputs) == {"counts"}:
        return csat_from_counts(inputs["counts"], scale).value
    if "n_responses" in inputs and all(
        re.fullmatch(r"n_\d+", k) for k in set(inputs) - {"n_responses"}
    ):
        counts = {int(k[2:]): v for k, v in inputs.items() if k != "n_responses"}
        # The rest answered some unsatisfied point; which one does not change the share.
        rest = min(set(scale.points) - scale.satisfied)
        counts[rest] = counts.get(rest, 0) + inputs["n_responses"] - sum(counts.values())
        return csat_from_counts(counts, scale).value
    pytest.fail(f"unhandled {metric} input shape: {sorted(inputs)}")


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['metric']}:{c['source_url'][:50]}")
def test_published_case(case):
    tolerance = max(case["tolerance"], 1e-9)
    assert _published_score(case) == pytest.approx(case["expected"], abs=tolerance)


@pytest.mark.parametrize(
    ("scale", "satisfied"),
    [
        (ONE_TO_THREE, {3}),
        (ONE_TO_FIVE, {4, 5}),
        (ONE_TO_SEVEN, {6, 7}),
        (ONE_TO_TEN, {9, 10}),
        (GOOD_BAD, {1}),
        (Scale(1, 2), {2}),
    ],
)
def test_default_satisfied_sets(scale, satisfied):
    assert scale.satisfied == satisfied


def test_a_custom_satisfied_set_is_used():
    scale = Scale(1, 3, frozenset({2, 3}))
    assert csat([1, 2, 3, 3], scale).value == 75
    assert csat([1, 2, 3, 3], ONE_TO_THREE).value == 50


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low": 1, "high": 4},  # no default for 1–4
        {"low": 5, "high": 1},
        {"low": 1, "high": 5, "satisfied": frozenset({6})},
        {"low": 1, "high": 3, "satisfied": frozenset({1, 2, 3})},
        {"low": 1.0, "high": 5},
    ],
)
def test_bad_scales_are_rejected(kwargs):
    with pytest.raises(ValueError):
        Scale(**kwargs)


@pytest.mark.parametrize("bad", [0, 6, 4.0, 4.5, "5", None, True, np.nan])
def test_bad_scores_are_rejected_naming_the_position(bad):
    with pytest.raises(ValueError, match="score #2"):
        csat([5, 4, bad], ONE_TO_FIVE)
    with pytest.raises(ValueError, match="score #2"):
        csat_mean([5, 4, bad], ONE_TO_FIVE)


def test_numpy_integers_are_whole_numbers():
    assert csat(np.array([5, 1], dtype="int64"), ONE_TO_FIVE).value == 50


def test_good_and_bad_labels_on_the_binary_scale():
    assert csat(["good", "good", "bad", "good"], GOOD_BAD).value == 75
    with pytest.raises(ValueError, match="score #0"):
        csat(["great"], GOOD_BAD)


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError, match="count key"):
        csat_from_counts({6: 1}, ONE_TO_FIVE)
    with pytest.raises(ValueError, match="whole number"):
        csat_from_counts({5: -1}, ONE_TO_FIVE)
    with pytest.raises(ValueError, match="twice"):
        csat_from_counts({5: 1, "5": 2}, ONE_TO_FIVE)


def test_empty_input_has_no_value():
    assert csat([], ONE_TO_FIVE).value is None
    assert csat_mean([], ONE_TO_FIVE).value is None
    single = csat_mean([4], ONE_TO_FIVE)
    assert (single.value, single.ci_low, single.ci_high) == (4.0, None, None)


def test_mean_interval_matches_scipy():
    scores = [1, 4, 5, 5, 3, 2, 4]
    result = csat_mean(scores, ONE_TO_FIVE, confidence=0.9)
    low, high = stats.t.interval(0.9, len(scores) - 1, np.mean(scores), stats.sem(scores))
    assert (result.value, result.ci_low, result.ci_high) == pytest.approx(
        (np.mean(scores), low, high)
    )


def test_mean_of_identical_scores_has_a_zero_width_interval():
    result = mean_from_sums(n=3, total=12, total_sq=48)
    assert result.ci_low == result.ci_high == 4


def _frame():
    return pd.DataFrame(
        {
            "location": ["a", "a", "b", "b", "b", "a"],
            "month": ["1", "2", "1", "1", "1", "1"],
            "rating": [5, 1, 4, 3, 5, 4],
        }
    )


@pytest.mark.parametrize(("variant", "single"), [("share", csat), ("mean", csat_mean)])
def test_grouped_rows_equal_the_ungrouped_metric(variant, single):
    frame = _frame()
    result = csat_by(
        frame, ["location", "month"], scale=ONE_TO_FIVE, score_column="rating", variant=variant
    )
    assert list(result.columns) == ["location", "month", "value", "n", "ci_low", "ci_high"]
    assert len(result) == 3
    for row in result.itertuples():
        rows = frame[(frame["location"] == row.location) & (frame["month"] == row.month)]
        expected = single(rows["rating"].tolist(), ONE_TO_FIVE)
        assert row.n == expected.n
        assert row.value == pytest.approx(expected.value)
        if expected.ci_low is None:
            assert np.isnan(row.ci_low)
        else:
            assert (row.ci_low, row.ci_high) == pytest.approx((expected.ci_low, expected.ci_high))


def test_grouped_rejects_bad_input():
    frame = _frame()
    with pytest.raises(ValueError, match="missing column"):
        csat_by(frame, ["store"], scale=ONE_TO_FIVE, score_column="rating")
    with pytest.raises(ValueError, match="missing column"):
        csat_by(frame, ["location"], scale=ONE_TO_FIVE)
    frame.loc[4, "rating"] = 6
    with pytest.raises(ValueError, match="row 4"):
        csat_by(frame, ["location"], scale=ONE_TO_FIVE, score_column="rating")
    with pytest.raises(ValueError, match="variant"):
        csat_by(_frame(), ["location"], scale=ONE_TO_FIVE, score_column="rating", variant="top")


def test_grouped_labels_on_the_binary_scale():
    frame = pd.DataFrame({"team": ["x", "x", "y"], "score": ["good", "bad", "good"]})
    result = csat_by(frame, ["team"], scale=GOOD_BAD)
    assert result["value"].tolist() == [50, 100]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=80))
def test_share_agrees_with_a_naive_count_and_lies_in_its_interval(scores):
    result = csat(scores, ONE_TO_SEVEN)
    naive = 100 * sum(s >= 6 for s in scores) / len(scores)
    assert result.value == pytest.approx(naive)
    assert 0 <= result.ci_low <= result.value <= result.ci_high <= 100


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=80), st.integers(1, 5))
def test_more_satisfied_answers_never_lower_the_share(scores, extra):
    before, after = csat(scores, ONE_TO_FIVE), csat([*scores, 5], ONE_TO_FIVE)
    assert after.value >= before.value - 1e-9
    mean = csat_mean(scores, ONE_TO_FIVE)
    assert 1 <= mean.value <= 5
    assert mean.ci_low <= mean.value <= mean.ci_high
