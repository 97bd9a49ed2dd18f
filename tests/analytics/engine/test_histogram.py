"""Invalid scores are refused on every engine, with the count, an example and the row."""

import datetime as dt
import sqlite3
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.engine import InvalidScoresError, SqlTable, counts, scores
from opencx.analytics.engine.histogram import point_of
from opencx.analytics.engine.spec import csat_spec, nps_spec
from opencx.analytics.metrics.csat import ONE_TO_FIVE

NPS = nps_spec()


def _frames(values):
    frame = pd.DataFrame({"location": ["a"] * len(values), "score": values})
    return {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "arrow": pa.Table.from_pandas(frame, preserve_index=False),
        "duckdb": frame,
    }


@pytest.mark.parametrize("engine", ["pandas", "polars", "arrow", "duckdb"])
@pytest.mark.parametrize(
    ("values", "rows", "position"),
    [([9, 11, 3, 12], 2, 1), ([9.0, 7.5, 3.0], 1, 1), ([9.0, np.nan, 3.0], 1, 1), ([0, -1], 1, 1)],
)
def test_in_memory_engines_name_the_first_bad_row(engine, values, rows, position):
    data = _frames(values)[engine]
    with pytest.raises(InvalidScoresError) as caught:
        counts(data, NPS, ["location"], engine=engine)
    assert caught.value.rows == rows
    assert caught.value.position == position
    assert f"row {position}" in str(caught.value) and "column 'score'" in str(caught.value)


def test_sqlite_names_the_count_and_an_example():
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE r (score)")
    connection.executemany("INSERT INTO r VALUES (?)", [(9,), ("ten",), (None,), (7,)])
    with pytest.raises(InvalidScoresError, match="2 invalid rows") as caught:
        counts(SqlTable(connection, "r"), NPS)
    assert caught.value.position is None


def test_whole_floats_are_points_and_counts_are_exact():
    frame = pd.DataFrame({"score": [10.0, 9.0, 0.0, 7.0]})
    table = counts(frame, NPS)
    assert table.to_dict("records") == [{"n": 4, "good": 2, "bad": 1, "sum": 26, "sum_sq": 230}]


@pytest.mark.parametrize(
    ("value", "point"),
    [
        (7, 7),
        (np.int8(7), 7),
        (7.0, 7),
        (Decimal("7.00"), 7),
        (True, None),
        (7.5, None),
        ("7", None),
        (None, None),
        (float("nan"), None),
        (11, None),
        (-1, None),
    ],
)
def test_point_of(value, point):
    assert point_of(value, NPS) == point


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("xyz"), st.integers(1, 5)), min_size=1, max_size=60))
def test_counts_agree_with_a_naive_tally(rows):
    frame = pd.DataFrame(rows, columns=["shop", "score"])
    spec = csat_spec(ONE_TO_FIVE)
    got = counts(frame, spec, ["shop"], engine="pandas")
    for shop, group in frame.groupby("shop"):
        row = got[got["shop"] == shop].iloc[0]
        assert row["n"] == len(group)
        assert row["good"] == group["score"].isin([4, 5]).sum()
        assert row["sum_sq"] == (group["score"] ** 2).sum()
    assert got["n"].sum() == len(frame)


def test_weeks_start_on_monday_and_engines_agree_on_labels():
    stamps = [dt.datetime(2024, 12, 29, 23), dt.datetime(2024, 12, 30), dt.datetime(2025, 1, 5)]
    frame = pd.DataFrame({"created_at": stamps, "score": [10, 0, 5]})
    for engine in ("pandas", "polars", "arrow", "duckdb"):
        table = counts(frame, NPS, ["week"], engine=engine)
        assert table["week"].tolist() == ["2024-12-23", "2024-12-30"], engine
        assert table["n"].tolist() == [1, 2], engine


def test_bad_arguments_are_refused():
    frame = pd.DataFrame({"score": [1]})
    with pytest.raises(ValueError, match="missing column"):
        counts(frame, NPS, ["location"])
    with pytest.raises(ValueError, match="not named"):
        counts(frame, NPS, ["n"])
    with pytest.raises(ValueError, match="engine must be"):
        counts(frame, NPS, engine="excel")
    with pytest.raises(ValueError, match="variant"):
        scores(frame, NPS, variant="mean")
    with pytest.raises(TypeError, match="no engine"):
        counts([1, 2], NPS)
