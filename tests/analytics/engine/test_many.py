"""The single pass (counts_many / scores_many) against the per-metric path, on edge cases.

The full cross-engine comparison with the row-by-row reference is in test_golden.py.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.engine import InvalidScoresError, counts, counts_many, scores_many
from opencx.analytics.engine.spec import ces_spec, csat_spec, nps_spec
from opencx.analytics.metrics.ces import CES_2
from opencx.analytics.metrics.csat import ONE_TO_FIVE

SPECS = {"nps": nps_spec(), "csat": csat_spec(ONE_TO_FIVE), "ces": ces_spec(CES_2)}
ROWS = 400


def _frame(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "location": rng.choice(np.array(["a", "b", None], dtype=object), ROWS),
            "created_at": pd.Timestamp("2024-12-20")
            + pd.to_timedelta(rng.integers(0, 40 * 86400, ROWS), unit="s"),
            "nps": rng.integers(0, 11, ROWS, dtype="int8"),
            "csat": rng.integers(1, 6, ROWS).astype("float64"),
            "ces": rng.integers(1, 8, ROWS, dtype="int64"),
        }
    )


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("by", [["location", "month"], ["week"], ["day"], []])
def test_each_table_is_the_per_metric_table(engine, by):
    frame = _frame()
    tables = counts_many(frame, SPECS, by, engine=engine)
    for column, spec in SPECS.items():
        expected = counts(frame, spec, by, score=column, engine="pandas")
        pd.testing.assert_frame_equal(tables[column], expected)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_wide_integer_keys_missing_timestamps_and_second_resolution(engine):
    frame = _frame().assign(shop=np.arange(ROWS, dtype="int64") % 7 * 10**12)
    frame["created_at"] = frame["created_at"].astype("datetime64[s]")
    frame.loc[5, "created_at"] = pd.NaT
    for by in (["shop", "day"], ["month"]):
        tables = counts_many(frame, {"nps": nps_spec()}, by, engine=engine)
        pd.testing.assert_frame_equal(
            tables["nps"], counts(frame, nps_spec(), by, score="nps", engine="pandas")
        )


def test_text_scores_take_the_per_metric_path_and_its_error():
    frame = _frame().assign(nps=lambda f: f["nps"].astype(str))
    with pytest.raises(InvalidScoresError, match=r"column 'nps', row 0: NPS"):
        counts_many(frame, SPECS, ["location"])


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize(
    ("column", "bad", "shown"),
    [("csat", 6, "got 6"), ("ces", 2.5, "got 2.5"), ("nps", np.nan, "a missing value")],
)
def test_invalid_scores_raise_the_per_metric_error(engine, column, bad, shown):
    frame = _frame()
    frame[column] = frame[column].astype("float64")
    frame.loc[[17, 40], column] = bad
    with pytest.raises(InvalidScoresError) as caught:
        counts_many(frame, SPECS, ["location", "month"], engine=engine)
    with pytest.raises(InvalidScoresError) as single:
        counts(frame, SPECS[column], ["location"], score=column, engine=engine)
    assert str(caught.value) == str(single.value)
    assert caught.value.position == 17 and caught.value.rows == 2
    assert shown in str(caught.value) and f"column {column!r}" in str(caught.value)


def test_bad_arguments_are_refused():
    frame = _frame()
    with pytest.raises(ValueError, match="cannot also be group columns"):
        counts_many(frame, {"nps": nps_spec()}, ["nps"])
    with pytest.raises(ValueError, match="at least one"):
        counts_many(frame, {})
    with pytest.raises(ValueError, match="not in specs"):
        scores_many(frame, {"nps": nps_spec()}, variants={"csat": "mean"})
    with pytest.raises(ValueError, match="variant"):
        scores_many(frame, {"csat": SPECS["csat"]}, variants={"csat": "median"})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 10), st.integers(1, 5)),
        min_size=1,
        max_size=60,
    )
)
def test_property_single_pass_equals_naive_counts(rows):
    frame = pd.DataFrame(rows, columns=["key", "nps", "csat"])
    tables = counts_many(frame, {"nps": SPECS["nps"], "csat": SPECS["csat"]}, ["key"])
    for column, spec in (("nps", SPECS["nps"]), ("csat", SPECS["csat"])):
        for row in tables[column].itertuples(index=False):
            values = [r[1 if column == "nps" else 2] for r in rows if r[0] == row.key]
            assert row.n == len(values)
            assert row.good == sum(v in spec.good for v in values)
            assert row.bad == sum(v in spec.bad for v in values)
            assert (row.sum, row.sum_sq) == (sum(values), sum(v * v for v in values))
        assert tables[column]["n"].sum() == len(rows)
