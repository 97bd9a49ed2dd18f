"""Shared input checks and the grouping helper for the rating metrics (NPS, CSAT, CES).

Every check raises ValueError naming the bad value and where it is (position in a sequence, row
and column in a table); nothing is silently dropped, clipped or coerced.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from numbers import Integral

import numpy as np
import pandas as pd

from opencx.analytics.result import Score

SCORE_COLUMNS = ["value", "n", "ci_low", "ci_high"]


def check_rating(score: object, low: int, high: int, what: str) -> int:
    """One rating: a whole number (int or numpy integer, never bool or float) within low..high."""
    if isinstance(score, bool) or not isinstance(score, Integral):
        raise ValueError(f"{what} scores must be whole numbers {low}–{high}, got {score!r}")
    value = int(score)
    if not low <= value <= high:
        raise ValueError(f"{what} scores must be {low}–{high}, got {value}")
    return value


def check_ratings(scores: Iterable[object], low: int, high: int, what: str) -> list[int]:
    """All ratings of a sequence, naming the position of the first bad one."""
    checked = []
    for position, score in enumerate(scores):
        try:
            checked.append(check_rating(score, low, high, what))
        except ValueError as error:
            raise ValueError(f"score #{position}: {error}") from None
    return checked


def check_counts(counts: Mapping[object, int], low: int, high: int, what: str) -> dict[int, int]:
    """A {scale point: number of answers} table: points on the scale, counts whole and ≥ 0."""
    checked: dict[int, int] = {}
    for point, count in counts.items():
        # JSON objects key counts by text: "5" means the point 5.
        key: object = point
        if isinstance(point, str) and point.strip().lstrip("-").isdigit():
            key = int(point)
        try:
            value = check_rating(key, low, high, what)
        except ValueError as error:
            raise ValueError(f"count key {point!r}: {error}") from None
        if isinstance(count, bool) or not isinstance(count, Integral) or count < 0:
            raise ValueError(f"count for {point!r} must be a whole number ≥ 0, got {count!r}")
        if value in checked:
            raise ValueError(f"scale point {value} is given twice in the counts")
        checked[value] = int(count)
    return checked


def require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the table has {list(frame.columns)}")


def _row(frame: pd.DataFrame, position: int) -> str:
    return f"row {position} (index {frame.index[position]!r})"


def rating_column(
    frame: pd.DataFrame,
    column: str,
    low: int,
    high: int,
    what: str,
    labels: Sequence[str] = (),
) -> np.ndarray:
    """A table column of ratings as int64, or ValueError naming the first bad row.

    `labels`, one per scale point from low, lets a text column name the points ("bad", "good").
    Integer columns are taken as they are; a float column is accepted only when every value is a
    whole number (CSV readers produce those), and missing values are errors, not skipped answers:
    drop unanswered rows explicitly before computing.
    """
    require_columns(frame, [column])
    series = frame[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        raise ValueError(f"column {column!r} holds booleans, not {what} scores {low}–{high}")
    missing = series.isna().to_numpy()
    if missing.any():
        position = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"column {column!r}, {_row(frame, position)}: missing {what} score "
            f"({int(missing.sum())} missing in all); drop unanswered rows explicitly"
        )
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype="float64")
        whole = np.floor(values) == values
        if not whole.all():
            position = int(np.flatnonzero(~whole)[0])
            raise ValueError(
                f"column {column!r}, {_row(frame, position)}: {what} scores must be whole "
                f"numbers {low}–{high}, got {series.to_list()[position]!r}"
            )
        inside = (values >= low) & (values <= high)
        if not inside.all():
            position = int(np.flatnonzero(~inside)[0])
            raise ValueError(
                f"column {column!r}, {_row(frame, position)}: {what} scores must be "
                f"{low}–{high}, got {series.to_list()[position]!r}"
            )
        return values.astype("int64")
    index = {label: low + i for i, label in enumerate(labels)}
    checked = np.empty(len(series), dtype="int64")
    for position, score in enumerate(series.to_list()):
        if isinstance(score, str) and score in index:
            score = index[score]
        try:
            checked[position] = check_rating(score, low, high, what)
        except ValueError as error:
            raise ValueError(f"column {column!r}, {_row(frame, position)}: {error}") from None
    return checked


def grouped_scores(
    frame: pd.DataFrame,
    by: Sequence[str],
    additive: Mapping[str, np.ndarray],
    finish: Callable[[Mapping[str, int]], Score],
) -> pd.DataFrame:
    """Sum additive per-row columns by group, then turn each group's sums into a Score.

    Returns the group columns followed by value, n, ci_low, ci_high, one row per group (sorted by
    the group keys; rows whose key is missing form their own group rather than vanish).
    """
    by = list(by)
    if not by:
        raise ValueError("by must name at least one column")
    require_columns(frame, by)
    overlap = set(by) & (set(additive) | set(SCORE_COLUMNS))
    if overlap:
        raise ValueError(f"group column name(s) {sorted(overlap)} clash with result columns")
    parts = frame[by].reset_index(drop=True).copy()
    for name, values in additive.items():
        parts[name] = values
    sums = parts.groupby(by, sort=True, dropna=False, observed=True).sum().reset_index()
    records: list[dict[Hashable, object]] = []
    for row in sums.to_dict("records"):
        counts = {name: int(row[name]) for name in additive}
        score = finish(counts)
        record: dict[Hashable, object] = {column: row[column] for column in by}
        record.update(value=score.value, n=score.n, ci_low=score.ci_low, ci_high=score.ci_high)
        records.append(record)
    columns = [*by, *SCORE_COLUMNS]
    result = pd.DataFrame.from_records(records, columns=columns)
    for column in SCORE_COLUMNS:
        result[column] = result[column].astype("int64" if column == "n" else "float64")
    return result
