"""From a histogram (group keys, score, number of rows) to additive counts, checking every score.

Each engine groups rows by the group keys *and the raw score value* and counts them. That small
table is the sufficient statistic for every rating metric: validation (is each distinct value a
whole number on the scale? is any missing?) and the counts n, good, bad, Σx, Σx² are then computed
here, once, in exact integer arithmetic, whatever engine produced the histogram.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Real

import numpy as np
import pandas as pd

from opencx.analytics.engine.spec import COUNT_COLUMNS, MetricSpec

VALUE = "_value"
ROWS = "_rows"


@dataclass
class InvalidScoresError(ValueError):
    """Some rows hold a missing, non-integer or out-of-range score."""

    spec_text: str
    column: str
    rows: int
    example: object
    position: int | None = None

    def __str__(self) -> str:
        where = f"row {self.position}: " if self.position is not None else ""
        shown = "a missing value" if _missing(self.example) else repr(self.example)
        return (
            f"column {self.column!r}, {where}{self.spec_text}, got {shown} "
            f"({self.rows} invalid row{'s' if self.rows != 1 else ''} in all)"
        )


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def point_of(value: object, spec: MetricSpec) -> int | None:
    """The scale point a raw value stands for, or None when it is not a valid score."""
    if isinstance(value, bool | np.bool_) or _missing(value):
        return None
    if isinstance(value, Integral):
        point = int(value)
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        point = int(value)
    elif isinstance(value, Real):
        number = float(value)
        if not math.isfinite(number) or not number.is_integer():
            return None
        point = int(number)
    else:
        return None
    return point if spec.low <= point <= spec.high else None


def counts_from_histogram(
    histogram: pd.DataFrame, by: Sequence[str], spec: MetricSpec, column: str
) -> pd.DataFrame:
    """Check the histogram's score values and sum them into COUNT_COLUMNS per group.

    Raises InvalidScoresError (no position: the caller adds one where rows have an order).
    """
    codes, uniques = pd.factorize(histogram[VALUE].to_numpy(), use_na_sentinel=False)
    rows = histogram[ROWS].to_numpy(dtype="int64")
    checked = [point_of(value, spec) for value in uniques]
    bad_codes = [code for code, point in enumerate(checked) if point is None]
    if bad_codes:
        bad = np.isin(codes, bad_codes)
        first = int(np.flatnonzero(bad)[0])
        example = uniques[codes[first]]
        example = example.item() if isinstance(example, np.generic) else example
        raise InvalidScoresError(spec.describe(), column, int(rows[bad].sum()), example)
    points = np.array(checked, dtype="int64")[codes] if len(codes) else np.zeros(0, "int64")
    good = np.isin(points, sorted(spec.good))
    bad = np.isin(points, sorted(spec.bad))
    parts = histogram[list(by)].reset_index(drop=True).copy()
    parts["n"] = rows
    parts["good"] = rows * good
    parts["bad"] = rows * bad
    parts["sum"] = rows * points
    parts["sum_sq"] = rows * points * points
    return sum_counts(parts, by)


def sum_counts(parts: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Sum COUNT_COLUMNS per group: one row per group sorted by the keys (missing keys last)."""
    by = list(by)
    if not by:
        totals = {name: [int(parts[name].sum())] for name in COUNT_COLUMNS}
        return pd.DataFrame(totals, columns=list(COUNT_COLUMNS)).astype("int64")
    summed = parts.groupby(by, sort=False, dropna=False, observed=True).sum().reset_index()
    keys = summed[by].astype(object)
    summed[by] = keys.where(keys.notna(), None)
    summed = summed.sort_values(by, na_position="last", kind="stable").reset_index(drop=True)
    for name in COUNT_COLUMNS:
        summed[name] = summed[name].astype("int64")
    return summed[[*by, *COUNT_COLUMNS]]
