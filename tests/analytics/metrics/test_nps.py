import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.analytics.metrics.nps import classify, nps, nps_from_counts

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"


def _count_cases():
    if not CASES.exists():
        return []
    cases = json.loads(CASES.read_text())
    return [
        c
        for c in cases
        if c["metric"] == "nps" and {"promoters", "passives", "detractors"} == set(c["inputs"])
    ]


@pytest.mark.parametrize("case", _count_cases(), ids=lambda c: c["source_url"][:60])
def test_published_nps_cases(case):
    counts = case["inputs"]
    n = counts["promoters"] + counts["passives"] + counts["detractors"]
    score = nps_from_counts(n=n, promoters=counts["promoters"], detractors=counts["detractors"])
    assert score.value == pytest.approx(case["expected"], abs=max(case["tolerance"], 1e-9))


@pytest.mark.parametrize(("score", "code"), [(0, -1), (6, -1), (7, 0), (8, 0), (9, 1), (10, 1)])
def test_classify_uses_the_standard_bands(score, code):
    assert classify(score) == code


@pytest.mark.parametrize("bad", [-1, 11, 7.5, "9", None, True])
def test_invalid_scores_are_rejected_not_dropped(bad):
    with pytest.raises(ValueError, match="score #1"):
        nps([10, bad])


def test_empty_input_has_no_value():
    assert nps([]).value is None


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=300))
def test_nps_equals_mean_of_codes_and_lies_in_its_interval_range(scores):
    result = nps(scores)
    assert result.value == pytest.approx(100 * sum(map(classify, scores)) / len(scores))
    assert -100 <= result.ci_low <= result.ci_high <= 100
    assert result.n == len(scores)


def test_numpy_integers_are_whole_numbers():
    import numpy as np

    assert nps(np.array([10, 9, 3], dtype=np.int64)).value == pytest.approx(100 / 3)
