import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from opencx.analytics.metrics import clv
from opencx.analytics.metrics.clv import BgNbdParams, GammaGammaParams

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
# CDNOW 2357-customer summary (x, t_x, T in weeks; zbar = mean repeat spend), as shipped in
# the lifetimes package's datasets and used by Fader, Hardie & Lee (2005) and Hardie's note 025.
CDNOW = Path(__file__).resolve().parent / "fixtures" / "cdnow_customers_summary.csv"
# Fader, Hardie & Lee (2005) estimates on CDNOW, unrounded (the case file rounds to 3 places).
CDNOW_PARAMS = BgNbdParams(r=0.242593, alpha=4.413532, a=0.792886, b=2.425754, unit="weeks")

METRICS = {
    "clv_simple",
    "clv_simple_with_margin",
    "clv_margin_multiple",
    "gamma_gamma_conditional_expected_average_profit",
    "bg_nbd_params_cdnow",
    "bg_nbd_conditional_expected_purchases",
}


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in METRICS]


def _check_clv_simple(inputs, expected, tolerance):
    value = clv.clv_simple(
        annual_value_per_customer=inputs["annual_profit_per_customer"],
        years=inputs["years"],
        acquisition_cost=inputs["acquisition_cost"],
    )
    assert value == pytest.approx(expected, abs=tolerance)


def _check_clv_simple_with_margin(inputs, expected, tolerance):
    value = clv.clv_from_orders(
        avg_order_value=inputs["avg_order_value"],
        purchases_per_year=inputs["purchases_per_year"],
        years=inputs["years"],
        gross_margin=inputs["gross_margin"],
        acquisition_cost=inputs.get("acquisition_cost", 0.0),
    )
    assert value == pytest.approx(expected, abs=tolerance)


def _check_clv_margin_multiple(inputs, expected, tolerance):
    value = clv.margin_multiple(retention=inputs["retention_r"], discount_rate=inputs["discount_i"])
    assert value == pytest.approx(expected, abs=tolerance)


def _check_gamma_gamma(inputs, expected, tolerance):
    params = GammaGammaParams(p=inputs["p"], q=inputs["q"], v=inputs["v"])
    value = clv.gamma_gamma_conditional_expected_average_profit(
        params, inputs["frequency"], inputs["monetary_value"]
    )
    assert value == pytest.approx(expected, abs=tolerance)


def _check_bg_nbd_conditional(inputs, expected, tolerance):
    params = BgNbdParams(
        r=inputs["r"], alpha=inputs["alpha"], a=inputs["a"], b=inputs["b"], unit="weeks"
    )
    value = clv.bg_nbd_conditional_expected_purchases(
        params, inputs["t"], inputs["x"], inputs["t_x"], inputs["T"]
    )
    assert value == pytest.approx(expected, abs=tolerance)


def _check_bg_nbd_cdnow(inputs, expected, tolerance):
    assert "CDNOW" in inputs["dataset"]
    data = pd.read_csv(CDNOW)
    assert len(data) == 2357
    published = BgNbdParams(
        r=expected["r"], alpha=expected["alpha"], a=expected["a"], b=expected["b"], unit="weeks"
    )
    # The log-likelihood at the published parameters ...
    at_published = clv.bg_nbd_log_likelihood(published, data["x"], data["t_x"], data["T"])
    assert at_published == pytest.approx(expected["log_likelihood"], abs=0.5)
    # ... and the maximum-likelihood refit.
    fit = clv.fit_bg_nbd(data["x"], data["t_x"], data["T"], unit="weeks")
    assert fit.converged
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit.params, name) == pytest.approx(expected[name], abs=tolerance["params"])
    assert fit.log_likelihood == pytest.approx(
        expected["log_likelihood"], abs=tolerance["log_likelihood"]
    )
    assert fit.log_likelihood >= at_published - 1e-9


HANDLERS = {
    "clv_simple": _check_clv_simple,
    "clv_simple_with_margin": _check_clv_simple_with_margin,
    "clv_margin_multiple": _check_clv_margin_multiple,
    "gamma_gamma_conditional_expected_average_profit": _check_gamma_gamma,
    "bg_nbd_params_cdnow": _check_bg_nbd_cdnow,
    "bg_nbd_conditional_expected_purchases": _check_bg_nbd_conditional,
}


def test_every_clv_metric_has_a_handler_and_a_case():
    assert set(HANDLERS) == METRICS
    assert {c["metric"] for c in _cases()} == METRICS


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["metric"])
def test_published_clv_cases(case):
    HANDLERS[case["metric"]](case["inputs"], case["expected"], case["tolerance"])


# ----------------------------------------------------------------- simple and margin formulas


def test_margin_multiple_conventions():
    assert clv.margin_multiple(retention=0.8, discount_rate=0.1) == pytest.approx(0.8 / 0.3)
    assert clv.margin_multiple(
        retention=0.8, discount_rate=0.1, first_margin_now=True
    ) == pytest.approx(1.1 / 0.3)


def test_clv_margin_retention_subtracts_acquisition_cost():
    value = clv.clv_margin_retention(
        margin_per_period=100, retention=0.8, discount_rate=0.1, acquisition_cost=50
    )
    assert value == pytest.approx(100 * 0.8 / 0.3 - 50)


@settings(max_examples=40, deadline=None)
@given(
    retention=st.floats(0.0, 0.95),
    discount=st.floats(0.0, 0.5),
    first_now=st.booleans(),
)
def test_long_finite_horizon_converges_to_the_closed_form(retention, discount, first_now):
    closed = clv.clv_margin_retention(
        margin_per_period=1.0,
        retention=retention,
        discount_rate=discount,
        first_margin_now=first_now,
    )
    summed = clv.clv_margin_retention(
        margin_per_period=1.0,
        retention=retention,
        discount_rate=discount,
        first_margin_now=first_now,
        horizon_periods=2000,
    )
    naive = sum(
        (retention / (1 + discount)) ** k
        for k in range(0 if first_now else 1, 2000 + (0 if first_now else 1))
    )
    assert summed == pytest.approx(closed, rel=1e-9, abs=1e-12)
    assert summed == pytest.approx(naive, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(r1=st.floats(0.0, 0.9), r2=st.floats(0.0, 0.9), discount=st.floats(0.0, 0.3))
def test_margin_multiple_grows_with_retention(r1, r2, discount):
    low, high = sorted((r1, r2))
    assert clv.margin_multiple(retention=low, discount_rate=discount) <= clv.margin_multiple(
        retention=high, discount_rate=discount
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retention": 1.0, "discount_rate": 0.1},
        {"retention": -0.1, "discount_rate": 0.1},
        {"retention": 0.5, "discount_rate": -0.1},
    ],
)
def test_margin_multiple_rejects_bad_rates(kwargs):
    with pytest.raises(ValueError, match="retention|discount_rate"):
        clv.margin_multiple(**kwargs)


def test_simple_clv_rejects_bad_inputs():
    with pytest.raises(ValueError, match="years"):
        clv.clv_simple(annual_value_per_customer=100, years=-1)
    with pytest.raises(ValueError, match="gross_margin"):
        clv.clv_from_orders(avg_order_value=70, purchases_per_year=3, years=3, gross_margin=30)


def test_per_period_rate_compounds_back():
    monthly = clv.per_period_rate(0.1, 12)
    assert (1 + monthly) ** 12 == pytest.approx(1.1)


# ----------------------------------------------------------------- BG/NBD


def test_expected_purchases_match_hardies_spreadsheet():
    # Hardie's BG/NBD spreadsheet values for CDNOW, as cited in lifetimes' tests.
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    actual = clv.bg_nbd_expected_purchases(CDNOW_PARAMS, times)
    np.testing.assert_allclose(actual, expected, atol=1e-3)


def test_euler_transformed_expectation_equals_the_direct_formula():
    p = CDNOW_PARAMS
    x, t_x, big_t, t = 3.0, 20.0, 38.0, np.array([1.0, 10.0, 52.0])
    z = t / (p.alpha + big_t + t)
    direct_tail = (1 - z) ** (p.r + x) * special.hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
    alive = 1 / (1 + p.a / (p.b + x - 1) * ((p.alpha + big_t) / (p.alpha + t_x)) ** (p.r + x))
    direct = (p.a + p.b + x - 1) / (p.a - 1) * (1 - direct_tail) * alive
    actual = clv.bg_nbd_conditional_expected_purchases(p, t, x, t_x, big_t)
    np.testing.assert_allclose(actual, direct, rtol=1e-10)


def test_log_likelihood_matches_the_direct_formula():
    p = CDNOW_PARAMS
    x, t_x, big_t = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.43, 29.43]), np.full(3, 38.86)
    beta = special.beta
    gam = special.gamma
    base = gam(p.r + x) * p.alpha**p.r / gam(p.r)
    first = beta(p.a, p.b + x) / beta(p.a, p.b) / (p.alpha + big_t) ** (p.r + x)
    second = np.where(
        x > 0,
        beta(p.a + 1, p.b + x - 1) / beta(p.a, p.b) / (p.alpha + t_x) ** (p.r + x),
        0.0,
    )
    np.testing.assert_allclose(
        clv.bg_nbd_customer_log_likelihood(p, x, t_x, big_t), np.log(base * (first + second))
    )


def test_log_likelihood_stays_finite_for_heavy_buyers():
    ll = clv.bg_nbd_customer_log_likelihood(CDNOW_PARAMS, [5000.0], [999.0], [1000.0])
    assert np.isfinite(ll).all()
    value = clv.bg_nbd_conditional_expected_purchases(CDNOW_PARAMS, 52, 5000, 999, 1000)
    assert np.isfinite(value) and value > 0


def test_probability_alive_is_one_without_repeat_purchases_and_falls_with_silence():
    assert clv.bg_nbd_probability_alive(CDNOW_PARAMS, 0, 0, 38.86) == 1.0
    recent = clv.bg_nbd_probability_alive(CDNOW_PARAMS, 4, 38.0, 38.86)
    stale = clv.bg_nbd_probability_alive(CDNOW_PARAMS, 4, 5.0, 38.86)
    assert 0 < stale < recent <= 1


@settings(max_examples=30, deadline=None)
@given(
    x=st.integers(0, 40),
    frac=st.floats(0.0, 1.0),
    big_t=st.floats(1.0, 200.0),
    t1=st.floats(0.0, 100.0),
    t2=st.floats(0.0, 100.0),
)
def test_conditional_expectation_is_nonnegative_and_grows_with_horizon(x, frac, big_t, t1, t2):
    t_x = frac * big_t if x > 0 else 0.0
    low, high = sorted((t1, t2))
    e_low = clv.bg_nbd_conditional_expected_purchases(CDNOW_PARAMS, low, x, t_x, big_t)
    e_high = clv.bg_nbd_conditional_expected_purchases(CDNOW_PARAMS, high, x, t_x, big_t)
    assert 0 <= e_low <= e_high + 1e-12


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "match"),
    [
        ([1, -1], [1, 0], [5, 5], r"frequency\[1\]"),
        ([1, 1.5], [1, 1], [5, 5], r"frequency\[1\]"),
        ([1, 1], [1, 6], [5, 5], r"recency\[1\] exceeds T"),
        ([0], [2], [5], r"recency\[0\] must be 0"),
        ([1, 1], [1, float("nan")], [5, 5], r"recency\[1\]"),
    ],
)
def test_invalid_rfm_is_rejected_with_its_position(frequency, recency, T, match):
    with pytest.raises(ValueError, match=match):
        clv.bg_nbd_log_likelihood(CDNOW_PARAMS, frequency, recency, T)


def test_params_require_a_unit_and_positive_values():
    with pytest.raises(ValueError, match="unit"):
        BgNbdParams(r=1, alpha=1, a=1, b=1, unit="fortnights")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        BgNbdParams(r=1, alpha=0, a=1, b=1, unit="days")


def _simulate_bg_nbd(r, alpha, a, b, horizon, n, seed):
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1 / alpha, n)
    dropout = rng.beta(a, b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rates[i])
            if t > horizon:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < dropout[i]:
                break
    return x, t_x, np.full(n, horizon)


def test_fit_recovers_simulated_parameters_and_is_unit_consistent():
    truth = BgNbdParams(r=0.5, alpha=4.0, a=1.5, b=4.0, unit="weeks")
    x, t_x, big_t = _simulate_bg_nbd(truth.r, truth.alpha, truth.a, truth.b, 52.0, 6000, seed=7)
    fit = clv.fit_bg_nbd(x, t_x, big_t, unit="weeks")
    assert fit.converged
    assert fit.log_likelihood >= clv.bg_nbd_log_likelihood(truth, x, t_x, big_t)
    assert fit.params.r == pytest.approx(truth.r, rel=0.1)
    assert fit.params.alpha == pytest.approx(truth.alpha, rel=0.15)
    assert fit.params.a == pytest.approx(truth.a, rel=0.3)
    assert fit.params.b == pytest.approx(truth.b, rel=0.3)
    horizon = np.array([4.0, 26.0, 52.0])
    np.testing.assert_allclose(
        clv.bg_nbd_expected_purchases(fit.params, horizon),
        clv.bg_nbd_expected_purchases(truth, horizon),
        rtol=0.05,
    )
    # The same data in days: alpha scales by 7, the shape parameters do not move.
    in_days = clv.fit_bg_nbd(x, t_x * 7, big_t * 7, unit="days")
    assert in_days.params.unit == "days"
    assert in_days.params.alpha == pytest.approx(7 * fit.params.alpha, rel=1e-3)
    assert in_days.params.r == pytest.approx(fit.params.r, rel=1e-3)


# ----------------------------------------------------------------- Gamma–Gamma and CLV


def test_gamma_gamma_refit_on_cdnow_matches_hardie_note_025():
    data = pd.read_csv(CDNOW)
    fit = clv.fit_gamma_gamma(data["x"], data["zbar"])
    assert fit.converged
    assert fit.n_customers == int((data["x"] > 0).sum()) == 946
    assert fit.params.p == pytest.approx(6.25, abs=0.01)
    assert fit.params.q == pytest.approx(3.74, abs=0.01)
    assert fit.params.v == pytest.approx(15.44, abs=0.02)


def test_gamma_gamma_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(1)
    truth = GammaGammaParams(p=4.0, q=3.0, v=20.0)
    n = 20000
    x = rng.integers(1, 12, n)
    nu = rng.gamma(truth.q, 1 / truth.v, n)  # per-customer rate of the spend distribution
    means = rng.gamma(truth.p * x, 1 / nu) / x  # mean of x Gamma(p, nu) spends
    fit = clv.fit_gamma_gamma(x, means)
    assert fit.converged
    assert fit.log_likelihood >= clv.gamma_gamma_log_likelihood(truth, x, means)
    assert fit.params.p == pytest.approx(truth.p, rel=0.1)
    assert fit.params.q == pytest.approx(truth.q, rel=0.05)
    assert fit.params.v == pytest.approx(truth.v, rel=0.1)
    # The population mean spend p·v/(q − 1) is pinned down much more tightly.
    mean_fit = fit.params.p * fit.params.v / (fit.params.q - 1)
    assert mean_fit == pytest.approx(truth.p * truth.v / (truth.q - 1), rel=0.03)


def test_expected_average_profit_without_repeat_is_the_population_mean():
    params = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    value = clv.gamma_gamma_conditional_expected_average_profit(params, 0, 0.0)
    assert value == pytest.approx(6.25 * 15.44 / 2.74)


@settings(max_examples=40, deadline=None)
@given(x=st.integers(1, 50), m=st.floats(0.01, 1e4))
def test_expected_average_profit_lies_between_population_mean_and_observed_mean(x, m):
    params = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    population = params.p * params.v / (params.q - 1)
    value = clv.gamma_gamma_conditional_expected_average_profit(params, x, m)
    assert min(population, m) - 1e-9 <= value <= max(population, m) + 1e-9


def test_gamma_gamma_rejects_nonpositive_spend_of_repeat_customers():
    with pytest.raises(ValueError, match=r"monetary_value\[1\]"):
        clv.fit_gamma_gamma([2, 3], [10.0, 0.0])


def test_model_clv_matches_a_naive_month_by_month_sum():
    bg = CDNOW_PARAMS
    gg = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    x, t_x, big_t, m = (
        np.array([0, 2, 7]),
        np.array([0, 30.43, 29.43]),
        np.full(3, 38.86),
        np.array([0.0, 22.35, 35.0]),
    )
    value = clv.clv_bg_nbd_gamma_gamma(
        bg, gg, x, t_x, big_t, m, horizon_months=12, monthly_discount_rate=0.01
    )
    spend = gg.p * (gg.v + x * m) / (gg.p * x + gg.q - 1)
    naive = np.zeros(3)
    for k in range(1, 13):
        step = clv.bg_nbd_conditional_expected_purchases(
            bg, k * 4.345, x, t_x, big_t
        ) - clv.bg_nbd_conditional_expected_purchases(bg, (k - 1) * 4.345, x, t_x, big_t)
        naive += spend * step / 1.01**k
    np.testing.assert_allclose(value, naive, rtol=1e-12)
    # Undiscounted, the months telescope to E[M] · E[Y(12 months)].
    flat = clv.clv_bg_nbd_gamma_gamma(bg, gg, x, t_x, big_t, m, monthly_discount_rate=0.0)
    np.testing.assert_allclose(
        flat, spend * clv.bg_nbd_conditional_expected_purchases(bg, 12 * 4.345, x, t_x, big_t)
    )


def test_clv_horizon_uses_the_model_unit_not_a_default():
    # The lifetimes Quickstart pitfall: weekly data read as days makes "12 months" 360 weeks.
    gg = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    weekly = clv.clv_bg_nbd_gamma_gamma(CDNOW_PARAMS, gg, 2, 30.43, 38.86, 22.35)
    as_days = clv.clv_bg_nbd_gamma_gamma(
        CDNOW_PARAMS, gg, 2, 30.43, 38.86, 22.35, units_per_month=30.0
    )
    assert as_days > 2 * weekly


# ----------------------------------------------------------------- RFM summary


def test_rfm_summary_in_days_and_weeks():
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",  # same day: one purchase occasion
                    "2024-01-08 10:00",
                    "2024-01-15 10:00",
                    "2024-01-10 12:00",
                    "2024-01-29 12:00",
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0],
        }
    )
    days = clv.rfm_summary(
        transactions, unit="days", monetary="amount", observation_end=pd.Timestamp("2024-01-29")
    )
    assert days.attrs["unit"] == "days"
    assert days.loc["a"].to_dict() == {
        "frequency": 2,
        "recency": 14.0,
        "T": 28.0,
        "monetary_value": 30.0,
    }
    assert days.loc["b"].to_dict() == {
        "frequency": 0,
        "recency": 0.0,
        "T": 19.0,
        "monetary_value": 0.0,
    }
    assert days.loc["c", "T"] == 0.0
    weeks = clv.rfm_summary(transactions, unit="weeks", monetary="amount")
    assert weeks.loc["a", "recency"] == pytest.approx(2.0)
    assert weeks.loc["b", "T"] == pytest.approx(19 / 7)


def test_rfm_summary_rejects_bad_tables():
    good = pd.DataFrame(
        {"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])}
    )
    with pytest.raises(ValueError, match="unit"):
        clv.rfm_summary(good, unit="months")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="datetimes"):
        clv.rfm_summary(good.assign(timestamp=["2024-01-01", "2024-01-02"]), unit="days")
    with pytest.raises(ValueError, match="row 1"):
        clv.rfm_summary(good.assign(customer_id=[1, None]), unit="days")
    with pytest.raises(ValueError, match="after observation_end"):
        clv.rfm_summary(good, unit="days", observation_end=pd.Timestamp("2024-01-01"))
    with pytest.raises(ValueError, match="amount"):
        clv.rfm_summary(good.assign(amount=[1.0, -2.0]), unit="days", monetary="amount")


def test_bg_nbd_fit_with_no_visible_dropout_is_not_converged():
    # Everyone bought right up to the end of observation: dropout cannot be identified, the
    # parameters run to the edge of their range, and the fit must say so instead of "converged".
    rng = np.random.default_rng(0)
    big_t = np.full(300, 52.0)
    frequency = rng.poisson(5, 300).astype(float)
    recency = np.where(frequency > 0, big_t - rng.uniform(0, 0.5, 300), 0.0)
    fit = clv.fit_bg_nbd(frequency, recency, big_t, unit="weeks")
    assert not fit.converged
    assert "edge of its range" in fit.message
