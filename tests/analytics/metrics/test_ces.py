"""CES: polarity stored with the scale, the three variants, published cases, grouping."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.metrics.ces import (
    AGREE_5,
    CES_1,
    CES_2,
    CesScale,
    ces,
    ces_by,
    ces_from_counts,
    ces_mean,
    ces_net,
    ces_percent_agree,
)
from opencx.analytics.metrics.csat import ONE_TO_FIVE, csat_mean
from opencx.analytics.metrics.nps import nps_from_counts

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
NAMES = ("ces_pct_agree_1to5",)


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in NAMES]


def test_every_case_name_is_present():
    assert {c["metric"] for c in _cases()} == set(NAMES)


def _bucket_counts(inputs, scale):
    """{"disagree_1_2": 5, "neutral_3": 5, "agree_4_5": 10} → a count on one point per bucket."""
    counts = {}
    for key, count in inputs.items():
        points = [int(p) for p in re.findall(r"\d+", key)]
        if not points:
            pytest.fail(f"unhandled CES input key {key!r}")
        span = set(range(min(points), max(points) + 1))
        sides = [
            span <= scale.good_side,
            span <= scale.bad_side,
            not span & (scale.good_side | scale.bad_side),
        ]
        assert any(sides), f"bucket {key!r} straddles the scale's sides"
        counts[min(points)] = counts.get(min(points), 0) + count
    return counts


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['metric']}:{c['source_url'][:50]}")
def test_published_case(case):
    found = re.search(r"(\d+)to(\d+)", case["metric"])
    # Delighted's % agree: a 1–N agreement scale, higher is better.
    scale = CesScale(points=int(found[2]), higher_is_better=True)
    score = ces_from_counts(_bucket_counts(case["inputs"], scale), scale, "percent_agree")
    assert score.value == pytest.approx(case["expected"], abs=max(case["tolerance"], 1e-9))


def test_presets_store_length_and_polarity():
    assert (CES_1.points, CES_1.higher_is_better) == (5, False)
    assert (CES_1.good_side, CES_1.bad_side) == ({1, 2}, {4, 5})
    assert (CES_2.points, CES_2.higher_is_better) == (7, True)
    assert (CES_2.good_side, CES_2.bad_side) == ({5, 6, 7}, {1, 2, 3})
    assert AGREE_5.good_side == {4, 5}


def test_the_same_answers_mean_opposite_things_on_opposite_scales():
    answers = [4, 5, 5, 1]
    assert ces_percent_agree(answers, AGREE_5).value == 75
    assert ces_percent_agree(answers, CES_1).value == 25  # 4–5 is high effort on CES 1.0


def test_polarity_is_required_and_checked():
    with pytest.raises(TypeError):
        CesScale(points=5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="polarity"):
        CesScale(points=5, higher_is_better=False, good=frozenset({4, 5}))
    with pytest.raises(ValueError, match="True or False"):
        CesScale(points=5, higher_is_better=1)
    with pytest.raises(ValueError, match="both"):
        CesScale(
            points=7, higher_is_better=True, good=frozenset({4, 5, 6, 7}), bad=frozenset({1, 4})
        )
    with pytest.raises(ValueError, match="outside"):
        CesScale(points=5, higher_is_better=True, good=frozenset({5, 6}))
    with pytest.raises(ValueError, match="in order"):
        CesScale(points=5, higher_is_better=True, good=frozenset({1, 5}), bad=frozenset({2}))


def test_custom_sides():
    scale = CesScale(points=7, higher_is_better=True, good=frozenset({6, 7}), bad=frozenset({1}))
    assert ces_percent_agree([5, 6, 7, 1], scale).value == 50
    assert ces_net([5, 6, 7, 1], scale).value == 25


def test_net_index_uses_the_nps_adjusted_wald_interval():
    answers = [1, 1, 2, 3, 4, 5, 5, 5, 2, 1]  # CES 1.0: good 1–2 (5), bad 4–5 (4)
    result = ces_net(answers, CES_1)
    reference = nps_from_counts(n=10, promoters=5, detractors=4)
    assert result == reference


def test_mean_is_on_the_scale_as_given():
    answers = [1, 2, 2, 5]
    assert ces_mean(answers, CES_1) == csat_mean(answers, ONE_TO_FIVE)
    assert ces_mean(answers, CES_1).value == 2.5  # not flipped to 3.5


@pytest.mark.parametrize("bad", [0, 8, 3.0, "4", None, False])
def test_bad_scores_are_rejected_naming_the_position(bad):
    for variant in ("percent_agree", "mean", "net"):
        with pytest.raises(ValueError, match="score #1"):
            ces([7, bad], CES_2, variant)


def test_unknown_variant():
    with pytest.raises(ValueError, match="variant"):
        ces([1], CES_1, "top_box")


def test_from_counts_equals_raw():
    counts = {1: 3, 4: 2, 7: 5}
    raw = [1] * 3 + [4] * 2 + [7] * 5
    for variant in ("percent_agree", "mean", "net"):
        assert ces_from_counts(counts, CES_2, variant) == ces(raw, CES_2, variant)


@pytest.mark.parametrize("variant", ["percent_agree", "mean", "net"])
def test_grouped_rows_equal_the_ungrouped_metric(variant):
    frame = pd.DataFrame(
        {"channel": ["chat", "chat", "mail", "mail", "chat"], "score": [7, 3, 5, 1, 6]}
    )
    result = ces_by(frame, ["channel"], scale=CES_2, variant=variant)
    assert list(result.columns) == ["channel", "value", "n", "ci_low", "ci_high"]
    for row in result.itertuples():
        expected = ces(frame.loc[frame["channel"] == row.channel, "score"].tolist(), CES_2, variant)
        assert (row.value, row.n, row.ci_low, row.ci_high) == pytest.approx(
            (expected.value, expected.n, expected.ci_low, expected.ci_high)
        )


def test_grouped_rejects_out_of_scale_rows():
    frame = pd.DataFrame({"channel": ["chat", "mail"], "score": [5, 6]})
    with pytest.raises(ValueError, match="row 1"):
        ces_by(frame, ["channel"], scale=CES_1)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=80))
def test_variants_agree_with_naive_formulas(scores):
    agree = ces_percent_agree(scores, CES_2)
    net = ces_net(scores, CES_2)
    good = sum(s >= 5 for s in scores) / len(scores)
    bad = sum(s <= 3 for s in scores) / len(scores)
    assert agree.value == pytest.approx(100 * good)
    assert net.value == pytest.approx(100 * (good - bad))
    assert 0 <= agree.ci_low <= agree.value <= agree.ci_high <= 100
    assert -100 <= net.ci_low <= net.ci_high <= 100
    assert ces_mean(scores, CES_2).value == pytest.approx(np.mean(scores))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=60))
def test_flipping_the_answers_swaps_sides_between_polarities(scores):
    flipped = [6 - s for s in scores]
    assert ces_percent_agree(scores, CES_1).value == pytest.approx(
        ces_percent_agree(flipped, AGREE_5).value
    )
    assert ces_net(scores, CES_1) == ces_net(flipped, AGREE_5)
