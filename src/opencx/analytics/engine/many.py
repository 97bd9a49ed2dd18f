"""Several rating metrics in one pass: the group keys are derived once for every score column.

`counts_many(frame, {"nps": nps_spec(), "csat": csat_spec(ONE_TO_FIVE)}, by=[...])` returns, per
score column, exactly the table `counts(frame, spec, by, score=column)` returns (same groups,
order and integers; the golden test checks it), but reads the rows once:

- pandas: the keys are coded once (integer ranges and day numbers without hashing where they
  fit), then one `numpy.bincount` per score column gives each group's count of every scale point;
- DuckDB: one `GROUP BY` query with conditional aggregates (`count_if`, `sum`) for every column,
  validation folded in (the rows whose value is not a whole number on the scale, per column);
- any other engine: the per-metric path, once per column.

Invalid scores are only detected here; when a column has any, the per-metric path is run on that
column to raise the usual `InvalidScoresError` (same message, row position included).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from opencx.analytics.engine.frames import (
    LABEL_FORMATS,
    _truncate,
    _wall_clock,
    check_columns,
    label_periods,
)
from opencx.analytics.engine.histogram import sum_counts
from opencx.analytics.engine.spec import COUNT_COLUMNS, PERIODS, SCORE_COLUMNS, MetricSpec

PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


class _Fallback(Exception):
    """A column the fast path does not read (e.g. text or nullable dtypes, invalid values)."""


def _cap(rows: int) -> int:
    return max(4 * rows, 1 << 20)


def _period_codes(series: pd.Series, column: str, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels of each row's period; day numbers index a small table when they can."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        _wall_clock(series, column)  # raises the usual "must hold timestamps" error
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)  # periods follow the timestamps' own time zone
    stamps = series.to_numpy()  # in its own unit (s, ms, us or ns): no conversion pass
    per_day = PER_DAY.get(np.datetime_data(stamps.dtype)[0])
    if per_day and len(stamps) and not np.isnat(stamps).any():
        days = stamps.view("int64") // per_day
        first, last = int(days.min()), int(days.max())
        if last - first < _cap(len(stamps)):
            table = np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[ns]")
            small, uniques = pd.factorize(_truncate(table, unit))
            codes = small.astype("int64")[days - first]
            return codes, _labels(np.asarray(uniques, dtype="datetime64[ns]"), unit)
    truncated = _truncate(stamps.astype("datetime64[ns]"), unit)
    codes, uniques = pd.factorize(truncated, use_na_sentinel=False)
    return codes.astype("int64"), _labels(np.asarray(uniques, dtype="datetime64[ns]"), unit)


def _labels(stamps: np.ndarray, unit: str) -> np.ndarray:
    labels = pd.Series(stamps).dt.strftime(LABEL_FORMATS[unit])
    return np.asarray(labels.astype(object).where(labels.notna(), None), dtype=object)


def _key_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a key column: an integer range without hashing where it is small, else factorize."""
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < _cap(len(values)) and high < 2**63:
            codes = values.astype("int64")
            codes -= low
            return codes, np.arange(low, high + 1).astype(values.dtype)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype("int64"), np.asarray(uniques, dtype=object)


def _check(values: np.ndarray, spec: MetricSpec) -> None:
    """_Fallback unless every value is a whole number on the scale (numeric dtypes only)."""
    if values.dtype.kind not in "iuf":  # bool, object, nullable: the per-metric path decides
        raise _Fallback
    if not len(values):
        return
    if values.dtype.kind in "iu":  # two reductions, no temporary arrays
        if int(values.min()) < spec.low or int(values.max()) > spec.high:
            raise _Fallback
        return
    valid = (values >= spec.low) & (values <= spec.high) & (values == np.floor(values))
    if not valid.all():  # NaN fails every comparison
        raise _Fallback


def _from_histogram(points: np.ndarray, spec: MetricSpec) -> dict[str, np.ndarray]:
    """COUNT_COLUMNS from a (groups × scale points) table of row counts."""
    scale = np.arange(spec.low, spec.high + 1, dtype="int64")
    good = [p - spec.low for p in sorted(spec.good)]
    bad = [p - spec.low for p in sorted(spec.bad)]
    return {
        "n": points.sum(axis=1),
        "good": points[:, good].sum(axis=1),
        "bad": points[:, bad].sum(axis=1),
        "sum": points @ scale,
        "sum_sq": points @ (scale * scale),
    }


def _pandas_counts(
    frame: pd.DataFrame, specs: Mapping[str, MetricSpec], by: Sequence[str], created_at: str
) -> dict[str, pd.DataFrame]:
    for column in specs:
        check_columns(list(frame.columns), by, column, created_at)
    rows = len(frame)
    codes: list[np.ndarray] = []
    uniques: list[np.ndarray] = []
    for name in by:
        if name in PERIODS:
            code, unique = _period_codes(frame[created_at], created_at, name)
        else:
            code, unique = _key_codes(frame[name].to_numpy())
        codes.append(code)
        uniques.append(unique)
    sizes = [max(len(unique), 1) for unique in uniques]
    key = codes[0] if codes else np.zeros(rows, dtype="int64")
    for code, size in zip(codes[1:], sizes[1:], strict=True):
        key = key * size
        key += code
    widest = max(spec.high - spec.low + 1 for spec in specs.values())
    cells = int(np.prod(sizes, dtype="float64"))
    if cells * widest > _cap(rows):  # sparse keys: number the groups that occur
        key, cell_of_group = pd.factorize(key)
        groups = len(cell_of_group)
    else:
        cell_of_group, groups = None, cells
    results: dict[str, pd.DataFrame] = {}
    present: np.ndarray | None = None
    columns: dict[str, Any] = {}
    for column, spec in specs.items():
        values = frame[column].to_numpy()
        try:
            _check(values, spec)
        except _Fallback:
            continue
        width = spec.high - spec.low + 1
        if values.dtype.kind == "f":
            values = values.astype("int64")  # whole numbers, checked above
        # cell = group × width + (value − low), built in place: one temporary per column
        cell = key * width
        cell -= spec.low
        cell += values
        table = np.bincount(cell, minlength=groups * width)
        table = table.reshape(groups, width).astype("int64")
        if present is None:
            present = np.flatnonzero(table.sum(axis=1))
            cells_present = present if cell_of_group is None else cell_of_group[present]
            rest = np.asarray(cells_present, dtype="int64")
            for name, size, unique in reversed(list(zip(by, sizes, uniques, strict=True))):
                columns[name] = np.asarray(unique, dtype=object)[rest % size]
                rest = rest // size
        parts = pd.DataFrame({name: columns[name] for name in by})
        for name, values in _from_histogram(table[present], spec).items():
            parts[name] = values
        results[column] = sum_counts(parts, by)
    return results


def _duckdb_type_ok(type_name: str) -> str | None:
    """'int' or 'float' for numeric DuckDB types the fast path reads, else None."""
    name = type_name.upper()
    if name.lstrip("U") in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}:
        return "int"
    if name in {"FLOAT", "DOUBLE"} or name.startswith("DECIMAL"):
        return "float"
    return None


def _count_in(x: str, points: frozenset[int]) -> str:
    if not points:
        return "CAST(0 AS BIGINT)"
    return f"count_if({x} IN ({', '.join(str(p) for p in sorted(points))}))"


def multi_metric_sql(
    table: str,
    types: Mapping[str, str],
    specs: Mapping[str, MetricSpec],
    by: Sequence[str],
    created_at: str,
) -> str:
    """One DuckDB query: keys, row count and, per score column, its invalid rows and counts."""
    from opencx.analytics.engine.sql import _bucket, _column, quote

    select = []
    for name in by:
        expression = (
            _bucket(created_at, name, "duckdb") if name in PERIODS else _column(name, "duckdb")
        )
        select.append(f"{expression} AS {_column(name, 'duckdb')}")
    select.append('count(*) AS "n"')
    for position, (column, spec) in enumerate(specs.items()):
        x = _column(column, "duckdb")
        valid = f"{x} BETWEEN {spec.low} AND {spec.high}"
        if types[column] == "float":
            valid += f" AND {x} = trunc({x})"
        # Σx and Σx² in DOUBLE: never overflow on bad rows (which raise anyway), and exact for
        # valid ones while Σx² < 2^53.
        select += [
            f'count(*) - count_if({valid}) AS "invalid_{position}"',
            f'{_count_in(x, spec.good)} AS "good_{position}"',
            f'{_count_in(x, spec.bad)} AS "bad_{position}"',
            f'sum(CAST({x} AS DOUBLE)) AS "sum_{position}"',
            f'sum(CAST({x} AS DOUBLE) * {x}) AS "sum_sq_{position}"',
        ]
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(by)))}" if by else ""
    return f"SELECT {', '.join(select)} FROM {quote(table, 'duckdb')}{group}"


def _duckdb_counts(
    data: Any, specs: Mapping[str, MetricSpec], by: Sequence[str], created_at: str
) -> dict[str, pd.DataFrame]:
    import duckdb

    name = "_opencx_rows"
    if isinstance(data, duckdb.DuckDBPyRelation):
        connection = None
        schema = dict(zip(data.columns, (str(t) for t in data.types), strict=True))
    else:
        connection = duckdb.connect()
        connection.register(name, data)
        relation = connection.sql(f"SELECT * FROM {name} LIMIT 0")
        assert relation is not None
        schema = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    types = {c: kind for c in specs if c in schema and (kind := _duckdb_type_ok(schema[c]))}
    fast = {c: spec for c, spec in specs.items() if c in types}
    if not fast:
        return {}
    query = multi_metric_sql(name, types, fast, by, created_at)
    result = data.query(name, query) if connection is None else connection.sql(query)
    assert result is not None  # a SELECT always yields a relation
    table = label_periods(result.df(), by)
    results: dict[str, pd.DataFrame] = {}
    for position, (column, _) in enumerate(fast.items()):
        if int(table[f"invalid_{position}"].sum()):
            continue  # the per-metric path raises InvalidScoresError with the first bad row
        parts = table[list(by)].copy()
        parts["n"] = table["n"].to_numpy(dtype="int64")
        for count in ("good", "bad", "sum", "sum_sq"):
            parts[count] = np.rint(table[f"{count}_{position}"].to_numpy(dtype="float64"))
            parts[count] = parts[count].astype("int64")
        results[column] = sum_counts(parts[[*by, *COUNT_COLUMNS]], by)
    return results


def counts_many(
    data: Any,
    specs: Mapping[str, MetricSpec],
    by: Sequence[str] = (),
    *,
    created_at: str = "created_at",
    engine: str | None = None,
) -> dict[str, pd.DataFrame]:
    """`counts(data, spec, by, score=column)` for every column → spec, reading the rows once.

    Raises InvalidScoresError (as `counts` does) for the first column, in `specs` order, that
    holds a missing, fractional or off-scale score.
    """
    from opencx.analytics.engine import ENGINES, _convert, counts, engine_of

    if not specs:
        raise ValueError("specs must name at least one score column")
    by = list(by)
    clash = sorted(set(by) & set(specs))
    if clash:
        raise ValueError(f"score column(s) {clash} cannot also be group columns")
    reserved = sorted(set(by) & set(COUNT_COLUMNS + SCORE_COLUMNS))
    if reserved or len(set(by)) != len(by):
        raise ValueError(f"group columns must be distinct and not named {reserved or by}")
    native = engine_of(data)
    chosen = native if engine is None else engine
    if chosen not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {chosen!r}")
    fast: dict[str, pd.DataFrame] = {}
    if chosen == "pandas" and len(_convert(data, native, "pandas")):
        fast = _pandas_counts(_convert(data, native, "pandas"), specs, by, created_at)
    elif chosen == "duckdb":
        fast = _duckdb_counts(data, specs, by, created_at)
    return {
        column: fast[column]
        if column in fast
        else counts(data, spec, by, score=column, created_at=created_at, engine=engine)
        for column, spec in specs.items()
    }


def scores_many(
    data: Any,
    specs: Mapping[str, MetricSpec],
    by: Sequence[str] = (),
    *,
    variants: Mapping[str, str] | None = None,
    confidence: float = 0.95,
    created_at: str = "created_at",
    engine: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Per score column: the group columns, then value, n, ci_low, ci_high (one pass)."""
    from opencx.analytics.engine import scores_from_counts

    chosen = dict(variants or {})
    unknown = sorted(set(chosen) - set(specs))
    if unknown:
        raise ValueError(f"variants given for column(s) {unknown} that are not in specs")
    for column, spec in specs.items():
        spec.variant(chosen.get(column))  # a bad variant fails before the scan
    tables = counts_many(data, specs, by, created_at=created_at, engine=engine)
    return {
        column: scores_from_counts(
            tables[column], spec, by, variant=chosen.get(column), confidence=confidence
        )
        for column, spec in specs.items()
    }
