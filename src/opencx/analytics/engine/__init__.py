"""The same rating metrics (NPS, CSAT, CES) on any engine, as additive counts per group.

    from opencx.analytics.engine import counts, scores, SqlTable
    from opencx.analytics.engine.spec import nps_spec

    scores(frame, nps_spec(), by=["location", "month"])           # pandas, Polars or Arrow
    scores(frame, nps_spec(), by=["location"], engine="duckdb")   # the same rows in DuckDB
    scores(SqlTable(connection, "responses"), nps_spec(), by=["week"])  # SQLite / PostgreSQL
    scores(spark_frame, nps_spec(), by=["location", "month"])     # PySpark
    scores_many(frame, {"nps": nps_spec(), "csat": csat_spec(ONE_TO_FIVE)}, by=["month"])  # 1 pass

`month`, `week` (its Monday) and `day` are derived from `created_at`. Every engine returns the
same counts (n, good, bad, sum, sum_sq) per group, and the score with its interval comes from
those counts (see docs/metrics/engines.md and docs/adr/0004-analytics-engine.md).
"""

from collections.abc import Sequence
from typing import Any

import pandas as pd

from opencx.analytics.engine.histogram import (
    InvalidScoresError,
    counts_from_histogram,
    point_of,
)
from opencx.analytics.engine.spec import COUNT_COLUMNS, SCORE_COLUMNS, MetricSpec
from opencx.analytics.engine.sql import SqlTable

ENGINES = ("pandas", "polars", "arrow", "duckdb", "sql", "spark")

__all__ = [
    "ENGINES",
    "InvalidScoresError",
    "SqlTable",
    "counts",
    "engine_of",
    "counts_many",
    "scores",
    "scores_from_counts",
    "scores_many",
]


def engine_of(data: Any) -> str:
    """The engine that runs natively on `data`."""
    if isinstance(data, SqlTable):
        return "sql"
    if isinstance(data, pd.DataFrame):
        return "pandas"
    module = type(data).__module__
    if module.startswith("polars"):
        return "polars"
    if module.startswith("pyarrow"):
        return "arrow"
    if module.startswith(("duckdb", "_duckdb")):
        return "duckdb"
    if module.startswith("pyspark"):
        return "spark"
    raise TypeError(f"no engine for {type(data)!r}; pass a DataFrame, Arrow table or SqlTable")


def _as_arrow(data: Any) -> Any:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    return data.lazy().collect().to_arrow()  # Polars


def _convert(data: Any, native: str, engine: str) -> Any:
    """Move an in-memory table to another in-memory engine (through Arrow)."""
    if engine == native or engine == "duckdb":
        return data
    if native not in ("pandas", "polars", "arrow") or engine not in ("pandas", "polars", "arrow"):
        raise ValueError(f"cannot run {native} data on the {engine} engine")
    table = _as_arrow(data)
    if engine == "arrow":
        return table
    if engine == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()


def _histogram(data: Any, engine: str, by: Sequence[str], score: str, created_at: str) -> Any:
    from opencx.analytics.engine import frames, sql

    if engine == "pandas":
        return frames.pandas_histogram(data, by, score, created_at)
    if engine == "polars":
        return frames.polars_histogram(data, by, score, created_at)
    if engine == "arrow":
        return frames.arrow_histogram(data, by, score, created_at)
    if engine == "duckdb":
        return sql.duckdb_histogram(data, by, score, created_at)
    if engine == "sql":
        return sql.sql_histogram(data, by, score, created_at)
    return sql.spark_histogram(data, by, score, created_at)


def _first_invalid(data: Any, native: str, score: str, spec: MetricSpec) -> int | None:
    """Row position of the first invalid score in an in-memory table (None for databases)."""
    if native not in ("pandas", "polars", "arrow"):
        return None
    values = _as_arrow(data)[score].to_pylist() if native != "pandas" else data[score].tolist()
    for position, value in enumerate(values):
        if point_of(value, spec) is None:
            return position
    return None


def counts(
    data: Any,
    spec: MetricSpec,
    by: Sequence[str] = (),
    *,
    score: str = "score",
    created_at: str = "created_at",
    engine: str | None = None,
) -> pd.DataFrame:
    """Additive counts per group: the group columns, then n, good, bad, sum, sum_sq.

    Raises InvalidScoresError when any score is missing, not a whole number or off the scale,
    naming the column, the number of such rows, an example and (in-memory tables) the first row.
    """
    by = list(by)
    clash = sorted(set(by) & set(COUNT_COLUMNS + SCORE_COLUMNS))
    if clash or len(set(by)) != len(by):
        raise ValueError(f"group columns must be distinct and not named {clash or by}")
    native = engine_of(data)
    chosen = native if engine is None else engine
    if chosen not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {chosen!r}")
    data = _convert(data, native, chosen)
    histogram = _histogram(data, chosen, by, score, created_at)
    try:
        return counts_from_histogram(histogram, by, spec, score)
    except InvalidScoresError as error:
        error.position = _first_invalid(data, native if chosen == "duckdb" else chosen, score, spec)
        raise


def scores_from_counts(
    table: pd.DataFrame,
    spec: MetricSpec,
    by: Sequence[str] = (),
    *,
    variant: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """value, n, ci_low, ci_high per row of a counts table (undefined values as NaN).

    Evaluated on arrays (engine/arrays.py), equal to the metric's scalar `*_from_counts` function
    on each row.
    """
    by = list(by)
    value, low, high = spec.score_arrays(table, variant=variant, confidence=confidence)
    result = table[by].astype(object).reset_index(drop=True)
    result["value"] = value
    result["n"] = table["n"].to_numpy(dtype="int64")
    result["ci_low"] = low
    result["ci_high"] = high
    return result


def scores(
    data: Any,
    spec: MetricSpec,
    by: Sequence[str] = (),
    *,
    variant: str | None = None,
    confidence: float = 0.95,
    score: str = "score",
    created_at: str = "created_at",
    engine: str | None = None,
) -> pd.DataFrame:
    """The metric per group: the group columns, then value, n, ci_low, ci_high."""
    table = counts(data, spec, by, score=score, created_at=created_at, engine=engine)
    return scores_from_counts(table, spec, by, variant=variant, confidence=confidence)


from opencx.analytics.engine.many import counts_many, scores_many  # noqa: E402 - uses the above
