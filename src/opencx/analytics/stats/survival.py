"""Kaplan–Meier survival for churn (reference section 2.7).

One row per customer: ``durations`` is the tenure (start to churn, or start to the data cut-off)
and ``observed`` is 1 when the customer churned, 0 when still active (right-censored). Customers
first seen after they started (left truncation) pass their tenure at first sight as ``entry``.
"""

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from opencx.analytics.stats.intervals import z_for

COLUMNS = ["time", "at_risk", "events", "censored", "survival", "ci_low", "ci_high"]


def _numbers(values: Sequence[float], label: str) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        raise ValueError(f"{label} must be one-dimensional")
    out = np.empty(len(array), dtype=float)
    for position, value in enumerate(array):
        if isinstance(value, bool | str | bytes) or value is None:
            raise ValueError(f"{label} #{position} is not a number: {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{label} #{position} is not a number: {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{label} #{position} must be a finite number >= 0, got {value!r}")
        out[position] = number
    return out


def _flags(values: Sequence[bool | int], size: int) -> np.ndarray:
    flags = list(values)
    if len(flags) != size:
        raise ValueError(f"observed has {len(flags)} values but durations has {size}")
    out = np.empty(size, dtype=bool)
    for position, flag in enumerate(flags):
        if isinstance(flag, str | bytes) or flag not in (0, 1):
            raise ValueError(
                f"observed #{position} must be 1/True (churned) or 0/False, got {flag!r}"
            )
        out[position] = bool(flag)
    return out


def kaplan_meier(
    durations: Sequence[float],
    observed: Sequence[bool | int],
    confidence: float = 0.95,
    entry: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Kaplan–Meier table: one row per distinct time (plus a starting row at time 0).

    Ŝ(t) = ∏_{tᵢ ≤ t} (1 − dᵢ/nᵢ). Greenwood's variance of log Ŝ, Σ dᵢ/(nᵢ(nᵢ − dᵢ)), gives the
    log-log ("exponential Greenwood") interval Ŝ^{exp(±z·√V)}, V = Greenwood / (log Ŝ)², as
    lifelines and R's ``conf.type = "log-log"`` do. The interval is (1, 1) before the first
    event and undefined (NaN) once Ŝ reaches 0.
    """
    z = z_for(confidence)
    times = _numbers(durations, "durations")
    if len(times) == 0:
        raise ValueError("durations is empty")
    events = _flags(observed, len(times))
    if entry is None:
        starts = np.zeros(len(times))
    else:
        starts = _numbers(entry, "entry")
        if len(starts) != len(times):
            raise ValueError(f"entry has {len(starts)} values but durations has {len(times)}")
        late = np.flatnonzero(starts > times)
        if len(late):
            raise ValueError(
                f"entry #{late[0]} ({starts[late[0]]}) is after its duration ({times[late[0]]})"
            )

    grid = np.unique(times)
    event_counts = np.bincount(np.searchsorted(grid, times[events]), minlength=len(grid))
    censor_counts = np.bincount(np.searchsorted(grid, times[~events]), minlength=len(grid))
    # At risk just before t: still in the study (duration >= t) and already entered (entry < t,
    # or entry == 0 == t for customers present from the start).
    sorted_times, sorted_starts = np.sort(times), np.sort(starts)
    still_in = len(times) - np.searchsorted(sorted_times, grid, side="left")
    not_yet = len(times) - np.searchsorted(sorted_starts, grid, side="left")
    not_yet = np.where(grid == 0, np.count_nonzero(starts > 0), not_yet)
    at_risk = still_in - not_yet

    survival = np.ones(len(grid))
    greenwood = np.zeros(len(grid))
    s, g = 1.0, 0.0
    for i, (n_i, d_i) in enumerate(zip(at_risk, event_counts, strict=True)):
        if d_i:
            s *= 1 - d_i / n_i
            g = g + d_i / (n_i * (n_i - d_i)) if n_i > d_i else math.inf
        survival[i], greenwood[i] = s, g

    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(survival)
        spread = z * np.sqrt(greenwood) / np.abs(log_s)
        low = np.power(survival, np.exp(spread))
        high = np.power(survival, np.exp(-spread))
    before_events = greenwood == 0
    low[before_events], high[before_events] = 1.0, 1.0
    undefined = survival == 0
    low[undefined], high[undefined] = np.nan, np.nan

    table = pd.DataFrame(
        {
            "time": grid,
            "at_risk": at_risk.astype(int),
            "events": event_counts.astype(int),
            "censored": censor_counts.astype(int),
            "survival": survival,
            "ci_low": low,
            "ci_high": high,
        }
    )
    if grid[0] > 0:
        start = pd.DataFrame(
            [[0.0, int(np.count_nonzero(starts == 0)), 0, 0, 1.0, 1.0, 1.0]], columns=COLUMNS
        )
        table = pd.concat([start, table], ignore_index=True)
    return table[COLUMNS]


def _check_table(table: pd.DataFrame) -> None:
    missing = [column for column in ("time", "survival") if column not in table.columns]
    if missing:
        raise ValueError(f"not a Kaplan–Meier table: missing column(s) {missing}")


def median_survival(table: pd.DataFrame) -> float | None:
    """The first time at which Ŝ(t) ≤ 0.5, or None when the curve never gets there."""
    _check_table(table)
    reached = table.loc[table["survival"] <= 0.5, "time"]
    return None if reached.empty else float(reached.iloc[0])


def survival_at(table: pd.DataFrame, t: float) -> float:
    """Ŝ(t) read off the step function (right-continuous): 1 before the first time."""
    _check_table(table)
    if isinstance(t, bool) or not isinstance(t, int | float) or math.isnan(t):
        raise ValueError(f"t must be a number, got {t!r}")
    index = int(np.searchsorted(table["time"].to_numpy(), t, side="right")) - 1
    return 1.0 if index < 0 else float(table["survival"].iloc[index])
