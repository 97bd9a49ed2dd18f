import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.metrics import churn
from opencx.analytics.stats.intervals import wilson

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
METRICS = {"churn_rate", "customer_retention_rate"}


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in METRICS]


def _check_churn(inputs, expected, tolerance):
    score = churn.churn_rate(
        customers_start=inputs["customers_start"], customers_lost=inputs["customers_lost"]
    )
    assert score.value == pytest.approx(expected, abs=tolerance)
    assert score.n == inputs["customers_start"]


def _check_crr(inputs, expected, tolerance):
    score = churn.customer_retention_rate(
        customers_start=inputs["S"], customers_end=inputs["E"], new_customers=inputs["N"]
    )
    assert score.value == pytest.approx(expected, abs=tolerance)
    if "lost" in inputs:  # same start cohort, no reactivation: churn + retention = 100 %
        lost = churn.churn_rate(customers_start=inputs["S"], customers_lost=inputs["lost"])
        assert lost.value + score.value == pytest.approx(100.0)


HANDLERS = {"churn_rate": _check_churn, "customer_retention_rate": _check_crr}


def test_every_case_metric_is_handled():
    assert {c["metric"] for c in _cases()} == set(HANDLERS)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["metric"])
def test_published_cases(case):
    HANDLERS[case["metric"]](case["inputs"], case["expected"], case["tolerance"])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), start=st.integers(0, 10_000))
def test_churn_is_a_percentage_with_the_wilson_interval(data, start):
    lost = data.draw(st.integers(0, start))
    score = churn.churn_rate(customers_start=start, customers_lost=lost)
    if start == 0:
        assert score.value is None and score.n == 0
        return
    interval = wilson(lost, start)
    assert score.value == pytest.approx(100 * lost / start)
    assert score.ci_low == pytest.approx(100 * interval.low)
    assert score.ci_high == pytest.approx(100 * interval.high)
    assert 0 <= score.ci_low <= score.value <= score.ci_high <= 100


def test_churn_rejects_more_lost_than_at_start_and_non_counts():
    with pytest.raises(ValueError, match="customers_lost=11"):
        churn.churn_rate(customers_start=10, customers_lost=11)
    with pytest.raises(ValueError, match="customers_start"):
        churn.churn_rate(customers_start=10.5, customers_lost=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="customers_lost"):
        churn.churn_rate(customers_start=10, customers_lost=-1)


@settings(max_examples=60, deadline=None)
@given(monthly=st.floats(0, 60))  # above that the annual rate is ~100 % and loses digits
def test_compound_churn_round_trips_between_month_and_year(monthly):
    annual = churn.compound_churn_rate(monthly, 12)
    assert annual >= monthly - 1e-9
    back = churn.compound_churn_rate(annual, 1 / 12)
    assert back == pytest.approx(monthly, abs=1e-6)


def test_compound_churn_known_value():
    assert churn.compound_churn_rate(2.0, 12) == pytest.approx(100 * (1 - 0.98**12))


def test_crr_rejects_impossible_counts():
    with pytest.raises(ValueError, match="below new_customers"):
        churn.customer_retention_rate(customers_start=100, customers_end=10, new_customers=20)
    with pytest.raises(ValueError, match="exceeds customers_start"):
        churn.customer_retention_rate(customers_start=100, customers_end=150, new_customers=20)


def test_repeat_purchase_rate_counts_and_window():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "timestamp": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-01-07", "2023-12-30", "2024-01-03", "2024-02-02"]
            ),
        }
    )
    ever = churn.repeat_purchase_rate_from_orders(orders)
    assert (ever.value, ever.n) == (pytest.approx(200 / 3), 3)
    january = churn.repeat_purchase_rate_from_orders(
        orders, start=pd.Timestamp("2024-01-01"), end=pd.Timestamp("2024-02-01")
    )
    assert (january.value, january.n) == (pytest.approx(100 / 3), 3)
    with pytest.raises(ValueError, match="exceeds"):
        churn.repeat_purchase_rate(customers=2, repeat_customers=3)


def _orders():
    rows = [
        ("a", "2024-01-03"),
        ("a", "2024-02-10"),
        ("a", "2024-04-01"),
        ("b", "2024-01-20"),
        ("b", "2024-03-05"),
        ("c", "2024-01-31"),
        ("d", "2024-02-01"),
        ("d", "2024-02-15"),
        ("d", "2024-03-31"),
        ("e", "2024-04-30"),
    ]
    return pd.DataFrame(
        {"customer_id": [r[0] for r in rows], "timestamp": pd.to_datetime([r[1] for r in rows])}
    )


def test_cohort_retention_classic_by_hand():
    table = churn.cohort_retention(_orders())
    assert list(table.columns[:6]) == ["cohort", "periods_since", "value", "n", "ci_low", "ci_high"]
    cells = {
        (str(c), k): (v, n)
        for c, k, v, n in table[["cohort", "periods_since", "value", "n"]].itertuples(index=False)
    }
    # January cohort: a, b, c (3). Feb: a. Mar: b. Apr: a.
    assert cells[("2024-01", 0)] == (100.0, 3)
    assert cells[("2024-01", 1)][0] == pytest.approx(100 / 3)
    assert cells[("2024-01", 2)][0] == pytest.approx(100 / 3)
    assert cells[("2024-01", 3)][0] == pytest.approx(100 / 3)
    # February cohort: d, active again in March (k=1), not in April (k=2).
    assert cells[("2024-02", 1)] == (100.0, 1)
    assert cells[("2024-02", 2)] == (0.0, 1)
    # Censored cells are absent, not zero.
    assert ("2024-02", 3) not in cells
    assert ("2024-04", 1) not in cells
    assert cells[("2024-04", 0)] == (100.0, 1)


def test_cohort_retention_unbounded_and_matrix():
    classic = churn.cohort_retention(_orders())
    unbounded = churn.cohort_retention(_orders(), mode="unbounded")
    assert (unbounded["value"].to_numpy() >= classic["value"].to_numpy() - 1e-12).all()
    jan = unbounded[unbounded["cohort"] == pd.Period("2024-01", freq="M")]
    # a is active in April, b last in March: 2 of 3 active in month 1 or later, 1 of 3 in 3+.
    assert jan["value"].tolist() == pytest.approx([100, 200 / 3, 200 / 3, 100 / 3])
    matrix = churn.cohort_retention_matrix(classic)
    assert matrix.loc[pd.Period("2024-01", freq="M"), "cohort_size"] == 3
    assert np.isnan(matrix.loc[pd.Period("2024-02", freq="M"), 3])  # censored
    assert pd.Period("2024-03", freq="M") not in matrix.index  # nobody started in March


def test_cohort_retention_as_of_extends_the_observed_window_and_weeks():
    table = churn.cohort_retention(_orders(), as_of=pd.Timestamp("2024-06-30"))
    assert table["periods_since"].max() == 5
    with pytest.raises(ValueError, match="after as_of"):
        churn.cohort_retention(_orders(), as_of=pd.Timestamp("2024-03-01"))
    weekly = churn.cohort_retention(_orders(), period="week")
    assert (weekly["periods_since"] >= 0).all()
    assert weekly.loc[weekly["periods_since"] == 0, "value"].eq(100).all()


def test_cohort_retention_rejects_bad_tables():
    orders = _orders()
    with pytest.raises(ValueError, match="datetimes"):
        churn.cohort_retention(orders.assign(timestamp=orders["timestamp"].astype(str)))
    missing = orders.copy()
    missing.loc[4, "customer_id"] = None
    with pytest.raises(ValueError, match="row 4"):
        churn.cohort_retention(missing)
    with pytest.raises(ValueError, match="no column 'customer'"):
        churn.cohort_retention(orders, customer="customer")
    with pytest.raises(ValueError, match="period"):
        churn.cohort_retention(orders, period="quarter")  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 180)), min_size=1, max_size=40))
def test_cohort_cells_agree_with_a_naive_count(rows):
    base = pd.Timestamp("2024-01-01")
    orders = pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "timestamp": [base + pd.Timedelta(days=d) for _, d in rows],
        }
    )
    table = churn.cohort_retention(orders)
    months = {c: set() for c, _ in rows}
    for c, d in rows:
        stamp = base + pd.Timedelta(days=d)
        months[c].add(stamp.year * 12 + stamp.month)
    last = max(max(m) for m in months.values())
    for cohort, k, value, n in table[["cohort", "periods_since", "value", "n"]].itertuples(
        index=False
    ):
        start = cohort.year * 12 + cohort.month
        members = [c for c, m in months.items() if min(m) == start]
        active = [c for c in members if start + k in months[c]]
        assert n == len(members)
        assert value == pytest.approx(100 * len(active) / len(members))
        assert start + k <= last
