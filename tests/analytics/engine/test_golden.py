"""One dataset, every engine: identical integer counts and scores (to 1e-9) per group.

The reference is computed row by row in plain Python from the published definitions; each engine
must match it exactly. PostgreSQL runs in a scratch schema (skipped only when no server answers
and OPENCX_REQUIRE_POSTGRES is unset); PySpark runs on local[1].
"""

import datetime as dt
import math
import os
import sqlite3
import uuid
from collections import defaultdict

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from opencx.analytics.engine import (
    InvalidScoresError,
    SqlTable,
    counts,
    counts_many,
    scores,
    scores_from_counts,
    scores_many,
)
from opencx.analytics.engine.spec import COUNT_COLUMNS, ces_spec, csat_spec, nps_spec
from opencx.analytics.metrics.ces import CES_1, CES_2
from opencx.analytics.metrics.csat import ONE_TO_FIVE

POSTGRES_URL = os.environ.get(
    "OPENCX_TEST_POSTGRES_URL", "postgres://postgres:postgres@127.0.0.1:5432/postgres"
)
ROWS = 3000
LOCATIONS = ["Bath", "Cardiff", "Leeds", "Milano", "Torino", "Zürich"]

# (name, spec, score column, variants)
METRICS = [
    ("nps", nps_spec(), "nps", ["nps"]),
    ("csat", csat_spec(ONE_TO_FIVE), "csat", ["share", "mean"]),
    ("ces2", ces_spec(CES_2), "ces", ["percent_agree", "mean", "net"]),
    ("ces1", ces_spec(CES_1), "effort", ["percent_agree", "mean", "net"]),
]
GROUPINGS = [["location", "month"], ["week"], ["day", "channel"], []]


def _dataset() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    start = dt.datetime(2023, 11, 1)
    seconds = rng.integers(0, 150 * 86400, ROWS)  # Nov 2023 – Mar 2024, across a year end
    location = rng.choice(np.array(LOCATIONS, dtype=object), ROWS)
    location[rng.random(ROWS) < 0.02] = None  # a missing key is its own group, never dropped
    return pd.DataFrame(
        {
            "location": location,
            "channel": rng.choice(["email", "sms", "web"], ROWS),
            "created_at": [start + dt.timedelta(seconds=int(s)) for s in seconds],
            "nps": rng.choice(11, ROWS, p=np.r_[[0.03] * 7, [0.12, 0.18, 0.25, 0.24]]),
            "csat": rng.integers(1, 6, ROWS),
            "ces": rng.integers(1, 8, ROWS),
            "effort": rng.integers(1, 6, ROWS),
        }
    )


DATA = _dataset()


def _key(row: dict, name: str):
    stamp: dt.datetime = row["created_at"]
    if name == "month":
        return f"{stamp.year:04d}-{stamp.month:02d}"
    if name == "week":
        return (stamp.date() - dt.timedelta(days=stamp.weekday())).isoformat()
    if name == "day":
        return stamp.date().isoformat()
    value = row[name]
    return None if pd.isna(value) else value


def _reference(spec, column: str, by: list[str]) -> pd.DataFrame:
    """Row-by-row counts from the definitions, independent of every engine."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in DATA.to_dict("records"):
        x = int(row[column])
        cell = totals[tuple(_key(row, name) for name in by)]
        cell[0] += 1
        cell[1] += x in spec.good
        cell[2] += x in spec.bad
        cell[3] += x
        cell[4] += x * x
    ordered = sorted(totals.items(), key=lambda kv: tuple((k is None, k or "") for k in kv[0]))
    return pd.DataFrame([[*key, *cell] for key, cell in ordered], columns=[*by, *COUNT_COLUMNS])


def _records(frame: pd.DataFrame) -> list[tuple]:
    out = []
    for row in frame.itertuples(index=False):
        out.append(
            tuple(
                None
                if v is None or (isinstance(v, float) and math.isnan(v))
                else (v.item() if hasattr(v, "item") else v)
                for v in row
            )
        )
    return out


def _assert_same(engine_counts: pd.DataFrame, spec, by: list[str], column: str) -> None:
    expected = _reference(spec, column, by)
    assert list(engine_counts.columns) == [*by, *COUNT_COLUMNS]
    for name in COUNT_COLUMNS:
        assert engine_counts[name].dtype == np.int64
    assert _records(engine_counts) == _records(expected)
    for variant in (m for m in METRICS if m[1] == spec).__next__()[3]:
        got = scores_from_counts(engine_counts, spec, by, variant=variant)
        want = scores_from_counts(expected, spec, by, variant=variant)
        assert (got["n"] == want["n"]).all()
        for name in ("value", "ci_low", "ci_high"):
            np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-9, equal_nan=True)


def _rows() -> list[tuple]:
    return [
        (
            None if pd.isna(r["location"]) else r["location"],
            r["channel"],
            r["created_at"].to_pydatetime(),
            int(r["nps"]),
            int(r["csat"]),
            int(r["ces"]),
            int(r["effort"]),
        )
        for r in DATA.to_dict("records")
    ]


def _sqlite_table():
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE TABLE responses (location TEXT, channel TEXT, created_at TEXT, nps INTEGER,"
        " csat INTEGER, ces INTEGER, effort INTEGER)"
    )
    rows = [(*row[:2], row[2].isoformat(sep=" "), *row[3:]) for row in _rows()]
    connection.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return connection


CASES = [(m, by) for m in METRICS for by in GROUPINGS]
IDS = [f"{m[0]}-by-{'-'.join(by) or 'all'}" for m, by in CASES]


@pytest.mark.parametrize(("metric", "by"), CASES, ids=IDS)
@pytest.mark.parametrize("engine", ["pandas", "polars", "arrow", "duckdb"])
def test_in_process_engines_match_the_reference(engine, metric, by):
    _, spec, column, _ = metric
    data = {"pandas": DATA, "polars": pl.from_pandas(DATA), "arrow": pa.Table.from_pandas(DATA)}
    source = data.get(engine, DATA)
    _assert_same(counts(source, spec, by, score=column, engine=engine), spec, by, column)


@pytest.mark.parametrize(("metric", "by"), CASES, ids=IDS)
def test_sqlite_matches_the_reference(metric, by):
    _, spec, column, _ = metric
    table = SqlTable(_sqlite_table(), "responses")
    _assert_same(counts(table, spec, by, score=column), spec, by, column)


@pytest.fixture(scope="module")
def postgres_table():
    psycopg = pytest.importorskip("psycopg")
    try:
        connection = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("OPENCX_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES_URL}: {error}")
    schema = f"opencx_golden_{uuid.uuid4().hex[:12]}"
    connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        connection.execute(
            f'CREATE TABLE "{schema}".responses (location TEXT, channel TEXT,'
            " created_at TIMESTAMP, nps INTEGER, csat SMALLINT, ces NUMERIC, effort BIGINT)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{schema}".responses VALUES (%s, %s, %s, %s, %s, %s, %s)',
                _rows(),
            )
        yield SqlTable(connection, f"{schema}.responses")
    finally:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()


@pytest.mark.parametrize(("metric", "by"), CASES, ids=IDS)
def test_postgresql_matches_the_reference(postgres_table, metric, by):
    _, spec, column, _ = metric
    _assert_same(counts(postgres_table, spec, by, score=column), spec, by, column)


@pytest.mark.spark
def test_spark_matches_the_reference_and_rejects_bad_scores(spark):
    """One test, so that one xdist worker starts the JVM."""
    schema = (
        "location string, channel string, created_at timestamp_ntz, nps int, csat smallint,"
        " ces bigint, effort int"
    )
    frame = spark.createDataFrame(_rows(), schema).cache()
    # Counting is the same for every metric (only the score column differs): four Spark jobs
    # cover every metric once and every grouping once.
    runs = list(zip(METRICS, GROUPINGS, strict=True))
    for (_, spec, column, _), by in runs:
        _assert_same(counts(frame, spec, by, score=column), spec, by, column)
    bad = spark.createDataFrame(
        [("Bath", 11), ("Bath", 3), ("Leeds", None)], "location string, nps int"
    )
    with pytest.raises(InvalidScoresError, match=r"2 invalid rows") as caught:
        scores(bad, nps_spec(), ["location"], score="nps")
    assert caught.value.position is None


def test_scores_equal_the_metric_functions_on_the_raw_rows():
    """The engine's grouped NPS equals nps() on each group's raw scores."""
    from opencx.analytics.metrics.nps import nps

    result = scores(DATA, nps_spec(), ["location"], score="nps", engine="duckdb")
    for row in result.itertuples(index=False):
        rows = (
            DATA[DATA["location"].isna()]
            if row.location is None
            else DATA[DATA["location"] == row.location]
        )
        expected = nps([int(x) for x in rows["nps"]])
        assert (row.value, row.n, row.ci_low, row.ci_high) == pytest.approx(
            (expected.value, expected.n, expected.ci_low, expected.ci_high), abs=1e-9
        )


# The multi-metric single pass: every score column at once, the same tables as `counts`.
MANY_SPECS = {column: spec for _, spec, column, _ in METRICS}


@pytest.mark.parametrize("by", GROUPINGS, ids=["-".join(by) or "all" for by in GROUPINGS])
@pytest.mark.parametrize("engine", ["pandas", "duckdb", "polars"])
def test_counts_many_matches_the_reference_and_the_per_metric_path(engine, by):
    source = pl.from_pandas(DATA) if engine == "polars" else DATA
    tables = counts_many(source, MANY_SPECS, by, engine=engine)
    assert list(tables) == list(MANY_SPECS)
    for column, spec in MANY_SPECS.items():
        _assert_same(tables[column], spec, by, column)
        single = counts(source, spec, by, score=column, engine=engine)
        pd.testing.assert_frame_equal(tables[column], single)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_scores_many_equals_scores_per_metric(engine):
    variants = {"csat": "mean", "ces": "net"}
    got = scores_many(DATA, MANY_SPECS, ["location", "month"], variants=variants, engine=engine)
    for column, spec in MANY_SPECS.items():
        want = scores(DATA, spec, ["location", "month"], variant=variants.get(column), score=column)
        pd.testing.assert_frame_equal(got[column], want, rtol=0, atol=1e-12)
