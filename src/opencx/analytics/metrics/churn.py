"""Churn rate, customer retention rate (CRR), repeat purchase rate and cohort retention tables.

Rates are percentages (0..100) with Wilson intervals on the underlying proportion; see
docs/metrics/churn-retention.md and shared reference sections 1.7–1.9 and 2.8.
"""

from typing import Literal, cast

import numpy as np
import pandas as pd

from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.result import Score

CohortPeriod = Literal["month", "week", "day"]
RetentionMode = Literal["classic", "unbounded"]

_PANDAS_FREQ: dict[str, str] = {"month": "M", "week": "W-SUN", "day": "D"}


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def percent_score(successes: int, n: int, confidence: float = 0.95) -> Score:
    """successes / n × 100 with its Wilson interval (empty Score when n is 0)."""
    return share_from_counts(n=int(n), satisfied=int(successes), confidence=confidence)


def churn_rate(*, customers_start: int, customers_lost: int, confidence: float = 0.95) -> Score:
    """Customers lost during the period ÷ customers at its start × 100 (Wilson interval).

    Count only customers who were present at the start: customers acquired during the period
    who also churn in it belong to neither number.
    """
    _check_count("customers_start", customers_start)
    _check_count("customers_lost", customers_lost)
    if customers_lost > customers_start:
        raise ValueError(
            f"customers_lost={customers_lost} exceeds customers_start={customers_start}; "
            "customers acquired during the period must not be counted as lost"
        )
    return percent_score(customers_lost, customers_start, confidence)


def compound_churn_rate(rate_per_period_pct: float, periods: float) -> float:
    """Churn over `periods` consecutive periods from a constant per-period churn (percent).

    1 − (1 − c)^k: e.g. 2 % a month is 21.5 % a year (periods=12); periods=1/12 goes the
    other way (annual → monthly).
    """
    if not 0 <= rate_per_period_pct <= 100:
        raise ValueError(f"rate_per_period_pct must be within 0..100, got {rate_per_period_pct}")
    if not periods > 0:
        raise ValueError(f"periods must be > 0, got {periods}")
    if rate_per_period_pct == 100:
        return 100.0
    return float(-100.0 * np.expm1(periods * np.log1p(-rate_per_period_pct / 100.0))) + 0.0


def customer_retention_rate(
    *, customers_start: int, customers_end: int, new_customers: int, confidence: float = 0.95
) -> Score:
    """CRR = (E − N) / S × 100, where S, E are customers at the start and end, N those acquired.

    The interval is Wilson on E − N retained of S. It assumes no customer acquired in the
    period left within it; with customer-level data prefer a cohort count.
    """
    _check_count("customers_start (S)", customers_start)
    _check_count("customers_end (E)", customers_end)
    _check_count("new_customers (N)", new_customers)
    retained = customers_end - new_customers
    if retained < 0:
        raise ValueError(
            f"customers_end (E={customers_end}) is below new_customers (N={new_customers})"
        )
    if retained > customers_start:
        raise ValueError(
            f"E − N = {retained} exceeds customers_start (S={customers_start}): "
            "reactivated customers must be counted as new"
        )
    return percent_score(retained, customers_start, confidence)


def repeat_purchase_rate(
    *, customers: int, repeat_customers: int, confidence: float = 0.95
) -> Score:
    """Customers with more than one purchase ÷ customers with at least one × 100 (Wilson)."""
    _check_count("customers", customers)
    _check_count("repeat_customers", repeat_customers)
    if repeat_customers > customers:
        raise ValueError(f"repeat_customers={repeat_customers} exceeds customers={customers}")
    return percent_score(repeat_customers, customers, confidence)


def _validated_orders(orders: pd.DataFrame, customer: str, timestamp: str) -> pd.DataFrame:
    for column in (customer, timestamp):
        if column not in orders.columns:
            raise ValueError(f"orders has no column {column!r} (columns: {list(orders.columns)})")
    if not pd.api.types.is_datetime64_any_dtype(orders[timestamp]):
        raise ValueError(
            f"column {timestamp!r} must hold datetimes, got dtype {orders[timestamp].dtype}; "
            "parse it first (pd.to_datetime) so that no value is guessed"
        )
    for column in (customer, timestamp):
        missing = orders[column].isna().to_numpy()
        if missing.any():
            position = int(np.flatnonzero(missing)[0])
            raise ValueError(f"column {column!r} is missing a value at row {position}")
    stamps = orders[timestamp]
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)  # keep local wall-clock time for calendar periods
    return pd.DataFrame({"customer": orders[customer].to_numpy(), "timestamp": stamps.to_numpy()})


def repeat_purchase_rate_from_orders(
    orders: pd.DataFrame,
    *,
    customer: str = "customer_id",
    timestamp: str = "timestamp",
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    confidence: float = 0.95,
) -> Score:
    """Repeat purchase rate *within* the window [start, end): customers with ≥ 2 orders there.

    Orders outside the window are ignored (for "ever repeated", pass the whole history).
    Timestamps are compared as local wall-clock times.
    """
    table = _validated_orders(orders, customer, timestamp)
    in_window = np.ones(len(table), dtype=bool)
    if start is not None:
        in_window &= (table["timestamp"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        in_window &= (table["timestamp"] < pd.Timestamp(end)).to_numpy()
    counts = table.loc[in_window, "customer"].value_counts()
    return repeat_purchase_rate(
        customers=int(counts.size), repeat_customers=int((counts >= 2).sum()), confidence=confidence
    )


def cohort_retention(
    orders: pd.DataFrame,
    *,
    customer: str = "customer_id",
    timestamp: str = "timestamp",
    period: CohortPeriod = "month",
    mode: RetentionMode = "classic",
    as_of: pd.Timestamp | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cohort retention in long form: cohort, periods_since, value (%), n, ci_low, ci_high.

    A customer's cohort is the calendar period (month, week starting Monday, or day) of their
    first order. The cell (cohort, k) is the share of the cohort active in period cohort + k
    ("classic"), or in that period or any later one ("unbounded"); n is the cohort size and the
    interval is Wilson. Periods after the last observed one (the period of `as_of`, default the
    latest order) are censored: those rows are absent, never 0. `retained` holds the count.
    """
    if period not in _PANDAS_FREQ:
        raise ValueError(f"period must be one of {sorted(_PANDAS_FREQ)}, got {period!r}")
    if mode not in ("classic", "unbounded"):
        raise ValueError(f"mode must be 'classic' or 'unbounded', got {mode!r}")
    table = _validated_orders(orders, customer, timestamp)
    columns = ["cohort", "periods_since", "value", "n", "ci_low", "ci_high", "retained"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    freq = _PANDAS_FREQ[period]
    table["ordinal"] = table["timestamp"].dt.to_period(freq).array.asi8
    if as_of is None:
        last = int(table["ordinal"].max())
    else:
        cut = pd.Timestamp(as_of)
        cut = cut.tz_localize(None) if cut.tz is not None else cut  # wall-clock, like orders
        last = int(pd.Period(cut, freq=freq).ordinal)
    if int(table["ordinal"].max()) > last:
        late = int(np.flatnonzero((table["ordinal"] > last).to_numpy())[0])
        raise ValueError(f"order at row {late} is after as_of={as_of}")
    first = table.groupby("customer", sort=False)["ordinal"].transform("min")
    table["cohort"] = first
    table["k"] = table["ordinal"] - first
    active = table[["cohort", "k", "customer"]].drop_duplicates()
    if mode == "unbounded":
        # Active in k or later == the customer's last active period is >= k.
        last_k = active.groupby(["cohort", "customer"], sort=False)["k"].max().reset_index()
        per_last = last_k.groupby(["cohort", "k"]).size()
        retained_by = {}
        for cohort_ordinal, series in per_last.groupby(level="cohort"):
            counts = series.droplevel("cohort")
            horizon = last - int(cast(int, cohort_ordinal))
            full = counts.reindex(range(horizon + 1), fill_value=0)
            retained_by[cohort_ordinal] = full[::-1].cumsum()[::-1]
        retained = pd.concat(retained_by, names=["cohort", "k"])
    else:
        retained = active.groupby(["cohort", "k"]).size()
    sizes = table.groupby("cohort")["customer"].nunique()
    rows = []
    for cohort_ordinal, size in zip(sizes.index.astype(int), sizes.to_numpy(), strict=True):
        horizon = last - int(cohort_ordinal)
        for k in range(horizon + 1):
            kept = int(retained.get((cohort_ordinal, k), 0))
            score = percent_score(kept, int(size), confidence)
            rows.append(
                (int(cohort_ordinal), k, score.value, score.n, score.ci_low, score.ci_high, kept)
            )
    result = pd.DataFrame(rows, columns=columns)
    # pandas-stubs do not know PeriodIndex.from_ordinals (pandas >= 2.2) yet.
    result["cohort"] = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        result["cohort"].to_numpy(), freq=freq
    )
    return result.sort_values(["cohort", "periods_since"], ignore_index=True)


def cohort_retention_matrix(retention: pd.DataFrame) -> pd.DataFrame:
    """The classic triangle: one row per cohort, one column per periods_since, NaN if censored."""
    matrix = retention.pivot(index="cohort", columns="periods_since", values="value")
    matrix.insert(0, "cohort_size", retention.groupby("cohort")["n"].first())
    return matrix
