"""Every published NPS case (raw scores or counts), plus the grouped NPS."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.metrics.nps import classify, nps, nps_by, nps_from_counts

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
NAMES = ("nps", "nps_classification_edge")


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in NAMES]


def test_every_case_name_is_present():
    assert {c["metric"] for c in _cases()} == set(NAMES)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['metric']}:{c['source_url'][:50]}")
def test_published_case(case):
    inputs, expected, tolerance = case["inputs"], case["expected"], max(case["tolerance"], 1e-9)
    if set(inputs) == {"scores"}:
        score = nps(inputs["scores"])
        codes = [classify(s) for s in inputs["scores"]]
        counts = {
            "promoters": codes.count(1),
            "passives": codes.count(0),
            "detractors": codes.count(-1),
        }
    elif set(inputs) == {"promoters", "passives", "detractors"}:
        counts = inputs
        n = sum(counts.values())
        score = nps_from_counts(n=n, promoters=counts["promoters"], detractors=counts["detractors"])
    else:
        pytest.fail(f"unhandled {case['metric']} input shape: {sorted(inputs)}")
    if isinstance(expected, dict):
        unknown = set(expected) - {"promoters", "passives", "detractors", "nps"}
        assert not unknown, f"unhandled expected keys {unknown}"
        for key in ("promoters", "passives", "detractors"):
            if key in expected:
                assert counts[key] == expected[key]
        expected = expected["nps"]
    assert score.value == pytest.approx(expected, abs=tolerance)


def _frame(scores, groups):
    return pd.DataFrame({"location": groups, "score": scores})


def test_nps_by_matches_nps_per_group():
    frame = _frame([10, 9, 0, 7, 6, 10, 3], ["a", "a", "a", "b", "b", "b", "b"])
    result = nps_by(frame, ["location"])
    assert list(result.columns) == ["location", "value", "n", "ci_low", "ci_high"]
    for row in result.itertuples():
        expected = nps(frame.loc[frame["location"] == row.location, "score"].tolist())
        assert (row.value, row.n, row.ci_low, row.ci_high) == pytest.approx(
            (expected.value, expected.n, expected.ci_low, expected.ci_high)
        )


def test_nps_by_keeps_rows_whose_group_is_missing():
    result = nps_by(_frame([10, 0], ["a", None]), ["location"])
    assert result["n"].sum() == 2


@pytest.mark.parametrize("bad", [11, -1, 7.5, np.nan, "9"])
def test_nps_by_rejects_bad_scores_naming_the_row(bad):
    frame = _frame([10, bad], ["a", "a"])
    with pytest.raises(ValueError, match="row 1"):
        nps_by(frame, ["location"])


def test_nps_by_accepts_whole_floats_from_csv():
    result = nps_by(_frame([10.0, 6.0], ["a", "a"]), ["location"])
    assert result["value"].iloc[0] == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10), st.sampled_from(["x", "y", "z"])), min_size=1, max_size=60
    )
)
def test_grouped_counts_add_up_to_the_overall_score(rows):
    frame = _frame([s for s, _ in rows], [g for _, g in rows])
    result = nps_by(frame, ["location"])
    assert result["n"].sum() == len(rows)
    weighted = (result["value"] * result["n"]).sum() / len(rows)
    assert weighted == pytest.approx(nps([s for s, _ in rows]).value)
    # The adjusted-Wald interval is shrunk towards 0, so at ±100 it may exclude the raw value.
    assert (result["ci_low"] >= -100).all()
    assert (result["ci_low"] <= result["ci_high"]).all()
    assert (result["ci_high"] <= 100).all()
