"""Histograms of in-memory tables: pandas (factorize + bincount), Polars and Arrow natively.

Each function returns the group keys (periods still as timestamps truncated to the period's
start), the raw score value as `VALUE` and the number of rows as `ROWS`; `histogram.py` checks the
values and turns them into counts, and `label_periods` writes the period labels.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from opencx.analytics.engine.histogram import ROWS, VALUE
from opencx.analytics.engine.spec import PERIODS

LABEL_FORMATS = {"month": "%Y-%m", "week": "%Y-%m-%d", "day": "%Y-%m-%d"}


def check_columns(columns: Sequence[str], by: Sequence[str], score: str, created_at: str) -> None:
    """Every grouping column (or created_at, for a period) and the score column exist."""
    needed = [score, *(created_at if name in PERIODS else name for name in by)]
    missing = sorted({name for name in needed if name not in columns})
    if missing:
        raise ValueError(f"missing column(s) {missing}; the table has {list(columns)}")


def label_periods(histogram: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Replace truncated timestamps by their labels: month 'YYYY-MM', week/day 'YYYY-MM-DD'."""
    for name in by:
        if name in PERIODS and not pd.api.types.is_object_dtype(histogram[name].dtype):
            stamps = pd.to_datetime(histogram[name])
            labels = stamps.dt.strftime(LABEL_FORMATS[name])
            histogram[name] = labels.astype(object).where(stamps.notna(), None)
    return histogram


def _wall_clock(series: pd.Series, column: str) -> np.ndarray:
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        raise ValueError(
            f"column {column!r} must hold timestamps to derive month/week/day, "
            f"got {series.dtype}; parse it first (e.g. pandas.to_datetime)"
        )
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)  # periods follow the timestamps' own time zone
    return series.to_numpy(dtype="datetime64[ns]")


def _truncate(stamps: np.ndarray, unit: str) -> np.ndarray:
    if unit == "month":
        return stamps.astype("datetime64[M]").astype("datetime64[ns]")
    days = stamps.astype("datetime64[D]")
    if unit == "week":
        number = days.astype("int64")
        monday = number - (number + 3) % 7  # 1970-01-01 was a Thursday
        days = np.where(np.isnat(days), days, monday.astype("datetime64[D]"))
    return days.astype("datetime64[ns]")


def pandas_histogram(
    frame: pd.DataFrame, by: Sequence[str], score: str, created_at: str
) -> pd.DataFrame:
    """Group rows by keys and raw score with pandas.factorize and one numpy bincount."""
    check_columns(list(frame.columns), by, score, created_at)
    arrays: list[Any] = []
    for name in by:
        if name in PERIODS:
            arrays.append(_truncate(_wall_clock(frame[created_at], created_at), name))
        else:
            arrays.append(frame[name].to_numpy())
    arrays.append(frame[score].to_numpy())
    codes: list[np.ndarray] = []
    uniques: list[Any] = []
    for name, values in zip([*by, VALUE], arrays, strict=True):
        code, unique = pd.factorize(values, use_na_sentinel=False)
        codes.append(code.astype("int64"))
        if name in PERIODS:  # label the few distinct periods, not every grouped row
            labels = pd.Series(pd.to_datetime(unique)).dt.strftime(LABEL_FORMATS[name])
            unique = np.asarray(labels.astype(object).where(labels.notna(), None), dtype=object)
        uniques.append(unique)
    sizes = [max(len(unique), 1) for unique in uniques]
    key = np.zeros(len(frame), dtype="int64")
    for code, size in zip(codes, sizes, strict=True):
        key = key * size + code
    cells = int(np.prod(sizes, dtype="float64"))
    if cells <= max(4 * len(frame), 1 << 20):
        rows = np.bincount(key, minlength=cells)
        present = np.flatnonzero(rows)
        rows = rows[present]
    else:
        present, rows = np.unique(key, return_counts=True)
    columns: dict[str, Any] = {}
    rest = present
    for name, size, unique in reversed(list(zip([*by, VALUE], sizes, uniques, strict=True))):
        columns[name] = np.asarray(unique, dtype=object)[rest % size] if len(unique) else []
        rest = rest // size
    histogram = pd.DataFrame({name: columns[name] for name in [*by, VALUE]})
    histogram[ROWS] = rows.astype("int64")
    return histogram


def polars_histogram(frame: Any, by: Sequence[str], score: str, created_at: str) -> pd.DataFrame:
    """Group a Polars DataFrame or LazyFrame by keys and raw score."""
    import polars as pl

    lazy = frame.lazy()
    check_columns(lazy.collect_schema().names(), by, score, created_at)
    every = {"month": "1mo", "week": "1w", "day": "1d"}
    keys = []
    for name in by:
        if name in PERIODS:
            if not lazy.collect_schema()[created_at].is_temporal():
                raise ValueError(f"column {created_at!r} must hold timestamps to derive {name}")
            keys.append(pl.col(created_at).dt.truncate(every[name]).alias(name))
        else:
            keys.append(pl.col(name))
    keys.append(pl.col(score).alias(VALUE))
    result = lazy.group_by(keys).agg(pl.len().alias(ROWS)).collect()
    histogram = pd.DataFrame({name: result[name].to_list() for name in result.columns})
    for name in by:
        if name in PERIODS:
            histogram[name] = pd.to_datetime(histogram[name])
    histogram[ROWS] = histogram[ROWS].astype("int64")
    return label_periods(histogram, by)


def arrow_histogram(
    table: pa.Table, by: Sequence[str], score: str, created_at: str
) -> pd.DataFrame:
    """Group an Arrow table by keys and raw score with pyarrow.compute and Table.group_by."""
    check_columns(table.column_names, by, score, created_at)
    columns: dict[str, Any] = {}
    for name in by:
        if name in PERIODS:
            stamps = table[created_at]
            if not pa.types.is_timestamp(stamps.type) and not pa.types.is_date(stamps.type):
                raise ValueError(f"column {created_at!r} must hold timestamps to derive {name}")
            options = {"week_starts_monday": True} if name == "week" else {}
            columns[name] = pc.floor_temporal(stamps, unit=name, **options)
        else:
            columns[name] = table[name]
    columns[VALUE] = table[score]
    keyed = pa.table(columns)
    grouped = keyed.group_by([*by, VALUE], use_threads=False).aggregate([([], "count_all")])
    histogram = pd.DataFrame(
        {name: grouped[name].to_pylist() for name in [*by, VALUE]}, dtype=object
    )
    for name in by:
        if name in PERIODS:
            histogram[name] = pd.to_datetime(histogram[name])
    histogram[ROWS] = grouped["count_all"].to_numpy().astype("int64")
    return label_periods(histogram, by)
