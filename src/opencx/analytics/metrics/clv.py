"""Customer lifetime value: simple formulas, the margin/retention/discount formula, and the
probabilistic BG/NBD (Fader, Hardie & Lee 2005) + Gamma–Gamma model, with explicit time units.

Time units are never implied: the BG/NBD parameters carry the unit of t, t_x and T (alpha is a
time scale), forecast horizons are given in that unit, and CLV horizons are in months with a
monthly discount rate. See docs/metrics/clv.md and shared reference section 1.6.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

TimeUnit = Literal["days", "weeks", "months"]
SummaryUnit = Literal["days", "weeks"]

# Time units per month used to turn a monthly CLV horizon into model time. These are the
# constants of lifetimes' and pymc-marketing's `customer_lifetime_value`, kept identical so
# that results compare; a month is taken as 30 days or 4.345 weeks.
UNITS_PER_MONTH: dict[str, float] = {"days": 30.0, "weeks": 4.345, "months": 1.0}
_DAYS_PER_UNIT: dict[str, int] = {"days": 1, "weeks": 7}

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


# --------------------------------------------------------------------------- simple formulas


def clv_simple(
    *, annual_value_per_customer: float, years: float, acquisition_cost: float = 0.0
) -> float:
    """Historical CLV = annual revenue (or profit) per customer × years − acquisition cost.

    Whether the result is revenue or margin depends on what `annual_value_per_customer` is:
    pass profit for a margin CLV.
    """
    _check_finite(annual_value_per_customer=annual_value_per_customer)
    _check_nonnegative(years=years, acquisition_cost=acquisition_cost)
    return annual_value_per_customer * years - acquisition_cost


def clv_from_orders(
    *,
    avg_order_value: float,
    purchases_per_year: float,
    years: float,
    gross_margin: float = 1.0,
    acquisition_cost: float = 0.0,
) -> float:
    """AOV × purchases per year × years × gross margin − acquisition cost.

    gross_margin is a fraction (0..1); leave it at 1.0 for a revenue CLV.
    """
    _check_nonnegative(
        avg_order_value=avg_order_value,
        purchases_per_year=purchases_per_year,
        years=years,
        acquisition_cost=acquisition_cost,
    )
    if not 0 <= gross_margin <= 1:
        raise ValueError(f"gross_margin is a fraction within 0..1, got {gross_margin}")
    return avg_order_value * purchases_per_year * years * gross_margin - acquisition_cost


def margin_multiple(
    *, retention: float, discount_rate: float, first_margin_now: bool = False
) -> float:
    """Gupta–Lehmann margin multiple for an infinite horizon and constant r and i per period.

    r / (1 + i − r) when each period's margin arrives at the end of the period (the textbook
    convention); (1 + i) / (1 + i − r) when the first margin is received immediately.
    Retention and discount rate are fractions per the same period as the margin.
    """
    if not 0 <= retention < 1:
        raise ValueError(f"retention is a per-period fraction within [0, 1), got {retention}")
    if not discount_rate >= 0 or not math.isfinite(discount_rate):
        raise ValueError(f"discount_rate is a per-period fraction >= 0, got {discount_rate}")
    denominator = 1 + discount_rate - retention
    return (1 + discount_rate if first_margin_now else retention) / denominator


def clv_margin_retention(
    *,
    margin_per_period: float,
    retention: float,
    discount_rate: float,
    acquisition_cost: float = 0.0,
    horizon_periods: int | None = None,
    first_margin_now: bool = False,
) -> float:
    """CLV = m × r / (1 + i − r) − AC (Gupta & Lehmann; Farris et al.).

    m is the margin per period, r the retention per period, i the discount rate per period —
    all for the same period (year, quarter, month). With `horizon_periods` the sum is cut
    after that many periods: Σ_{k=1..H} m r^k / (1+i)^k (or k = 0..H−1 when the first margin
    is received now).
    """
    _check_finite(margin_per_period=margin_per_period)
    _check_nonnegative(acquisition_cost=acquisition_cost)
    multiple = margin_multiple(
        retention=retention, discount_rate=discount_rate, first_margin_now=first_margin_now
    )
    if horizon_periods is not None:
        if isinstance(horizon_periods, bool) or not isinstance(horizon_periods, int):
            raise ValueError(f"horizon_periods must be a whole number, got {horizon_periods!r}")
        if horizon_periods < 0:
            raise ValueError(f"horizon_periods must be >= 0, got {horizon_periods}")
        start = 0 if first_margin_now else 1
        ks = np.arange(start, start + horizon_periods)
        multiple = float(np.sum((retention / (1 + discount_rate)) ** ks))
    return margin_per_period * multiple - acquisition_cost


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """Convert an annual discount (or growth) rate to the equivalent per-period compound rate."""
    if not annual_rate > -1 or not math.isfinite(annual_rate):
        raise ValueError(f"annual_rate must be a finite fraction > -1, got {annual_rate}")
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year}")
    return float((1 + annual_rate) ** (1 / periods_per_year) - 1)


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")


def _check_nonnegative(**values: float) -> None:
    _check_finite(**values)
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


# --------------------------------------------------------------------------- BG/NBD


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate λ ~ Gamma(r, alpha), dropout p ~ Beta(a, b).

    `unit` is the unit of time of t, t_x (recency) and T that alpha is expressed in.
    """

    r: float
    alpha: float
    a: float
    b: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (
                isinstance(value, (int, float, np.number)) and math.isfinite(value) and value > 0
            ):
                raise ValueError(f"BG/NBD parameter {name} must be finite and > 0, got {value!r}")
        if self.unit not in UNITS_PER_MONTH:
            raise ValueError(f"unit must be one of {sorted(UNITS_PER_MONTH)}, got {self.unit!r}")


@dataclass(frozen=True)
class BgNbdFit:
    """A maximum-likelihood BG/NBD fit."""

    params: BgNbdParams
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str


def _as_float_array(name: str, values: ArrayLike) -> FloatArray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None
    if array.ndim > 1:
        raise ValueError(f"{name} must be a scalar or one-dimensional, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        position = int(np.flatnonzero(np.atleast_1d(bad))[0])
        raise ValueError(f"{name}[{position}] is not a finite number")
    return array


def _first_bad(name: str, bad: npt.NDArray[np.bool_], what: str) -> None:
    if np.any(bad):
        position = int(np.flatnonzero(np.atleast_1d(bad))[0])
        raise ValueError(f"{name}[{position}] {what}")


def _rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    x = _as_float_array("frequency", frequency)
    t_x = _as_float_array("recency", recency)
    big_t = _as_float_array("T", T)
    try:
        x, t_x, big_t = np.broadcast_arrays(x, t_x, big_t)
    except ValueError:
        raise ValueError("frequency, recency and T must have the same length") from None
    _first_bad("frequency", (x < 0) | (x != np.floor(x)), "must be a whole number >= 0")
    _first_bad("recency", t_x < 0, "must be >= 0")
    _first_bad("recency", t_x > big_t, "exceeds T (the last purchase is after the end)")
    _first_bad("recency", (x == 0) & (t_x != 0), "must be 0 when frequency is 0")
    _first_bad("T", big_t < 0, "must be >= 0")
    return x, t_x, big_t


def _shaped(values: FloatArray, like: FloatArray) -> FloatArray | float:
    return float(values) if like.ndim == 0 else values


def bg_nbd_customer_log_likelihood(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6), in log space.

    log L = log Γ(r+x) − log Γ(r) + r log α
            + log[ B(a, b+x)/B(a, b) (α+T)^−(r+x) + 1{x>0} B(a+1, b+x−1)/B(a, b) (α+t_x)^−(r+x) ]
    with the bracket summed by logaddexp so that neither term under- or overflows.
    """
    x, t_x, big_t = _rfm(frequency, recency, T)
    return _bg_nbd_ll(params.r, params.alpha, params.a, params.b, x, t_x, big_t)


def _bg_nbd_ll(
    r: float, alpha: float, a: float, b: float, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> FloatArray:
    beta_ab = special.betaln(a, b)
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    still_alive = special.betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + big_t)
    repeat = x > 0
    safe_x = np.where(repeat, x, 1.0)  # keeps betaln's argument positive where the term is off
    dropped = np.where(
        repeat,
        special.betaln(a + 1, b + safe_x - 1) - beta_ab - (r + safe_x) * np.log(alpha + t_x),
        -np.inf,
    )
    result: FloatArray = head + np.logaddexp(still_alive, dropped)
    return result


def bg_nbd_log_likelihood(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> float:
    """Total BG/NBD log-likelihood of a customer base."""
    return float(np.sum(bg_nbd_customer_log_likelihood(params, frequency, recency, T)))


BOUNDARY_LOG = math.log(1e5)  # |log parameter| beyond this counts as not identified


def _minimise(
    objective: Callable[[FloatArray], float], start: FloatArray
) -> optimize.OptimizeResult:
    """Minimise over log-parameters with BFGS; fall back to Nelder–Mead + BFGS if that fails.

    BFGS often ends with "precision loss" at the optimum; that counts as converged when the
    gradient there is negligible.
    """

    def settled(result: optimize.OptimizeResult) -> bool:
        flat = result.status == 2 and float(np.max(np.abs(result.jac))) < 1e-4
        return bool(np.isfinite(result.fun) and (result.success or flat))

    first = optimize.minimize(objective, start, method="BFGS", options={"gtol": 1e-6})
    if settled(first):
        first.success = True
        return first
    coarse = optimize.minimize(
        objective, start, method="Nelder-Mead", options={"maxiter": 4000, "fatol": 1e-10}
    )
    polish = optimize.minimize(objective, coarse.x, method="BFGS", options={"gtol": 1e-6})
    best = polish if polish.fun <= coarse.fun else coarse
    best.success = bool(coarse.success or settled(polish))
    return best


def fit_bg_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    unit: TimeUnit,
    initial: BgNbdParams | None = None,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit; `unit` is the unit in which recency and T are given.

    Times are rescaled internally (max T → 10) for conditioning; alpha is reported in `unit`.
    """
    x, t_x, big_t = _rfm(frequency, recency, T)
    x, t_x, big_t = np.atleast_1d(x), np.atleast_1d(t_x), np.atleast_1d(big_t)
    if x.size == 0:
        raise ValueError("cannot fit BG/NBD to zero customers")
    if unit not in UNITS_PER_MONTH:
        raise ValueError(f"unit must be one of {sorted(UNITS_PER_MONTH)}, got {unit!r}")
    scale = 10.0 / float(big_t.max())
    st_x, s_t = t_x * scale, big_t * scale

    def objective(log_params: FloatArray) -> float:
        r, alpha, a, b = np.exp(np.clip(log_params, -30, 30))
        value = -float(np.mean(_bg_nbd_ll(r, alpha, a, b, x, st_x, s_t)))
        return value if math.isfinite(value) else 1e300

    start = (
        np.log([initial.r, initial.alpha * scale, initial.a, initial.b])
        if initial is not None
        else np.zeros(4)
    )
    result = _minimise(objective, np.asarray(start, dtype=float))
    # A parameter that ran off towards 0 or infinity means the data cannot identify it (e.g. no
    # dropout visible): the likelihood is flat there and the forecasts are not finite.
    at_edge = bool(np.any(np.abs(result.x) > BOUNDARY_LOG))
    r, alpha, a, b = np.exp(np.clip(result.x, -30, 30))
    params = BgNbdParams(r=float(r), alpha=float(alpha / scale), a=float(a), b=float(b), unit=unit)
    return BgNbdFit(
        params=params,
        log_likelihood=bg_nbd_log_likelihood(params, x, t_x, big_t),
        n_customers=int(x.size),
        converged=bool(result.success) and not at_edge,
        message=(
            f"a parameter ran to the edge of its range ({params}); the data do not identify it"
            if at_edge
            else str(result.message)
        ),
    )


def _check_horizon(t: ArrayLike) -> FloatArray:
    horizon = _as_float_array("t", t)
    _first_bad("t", horizon < 0, "must be >= 0")
    return horizon


def _hyp2f1_tail(params: BgNbdParams, x: FloatArray, z: FloatArray) -> FloatArray:
    """(1−z)^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z), evaluated via Euler's transformation as
    (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z), whose first two arguments do not grow with x.
    """
    r, a, b = params.r, params.a, params.b
    if a == 1:
        raise ValueError("BG/NBD expectations are 0/0 at a = 1 exactly; perturb a")
    value = np.power(1 - z, a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"hypergeometric term is not finite for {params}")
    result: FloatArray = np.asarray(value, dtype=np.float64)
    return result


def bg_nbd_expected_purchases(params: BgNbdParams, t: ArrayLike) -> FloatArray | float:
    """E[X(t)]: expected purchases in (0, t] for a customer just acquired; t in params.unit.

    (a+b−1)/(a−1) · [1 − (α/(α+t))^r · ₂F₁(r, b; a+b−1; t/(α+t))].
    """
    horizon = _check_horizon(t)
    z = horizon / (params.alpha + horizon)
    tail = _hyp2f1_tail(params, np.zeros_like(horizon), z)
    values = (params.a + params.b - 1) / (params.a - 1) * (1 - tail)
    return _shaped(np.asarray(values, dtype=float), horizon)


def _log_dropout_odds(
    params: BgNbdParams, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """log of 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x); −inf where x = 0."""
    safe_x = np.where(x > 0, x, 1.0)
    odds = (
        np.log(params.a)
        - np.log(params.b + safe_x - 1)
        + (params.r + safe_x) * (np.log(params.alpha + big_t) - np.log(params.alpha + t_x))
    )
    result: FloatArray = np.where(x > 0, odds, -np.inf)
    return result


def bg_nbd_probability_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray | float:
    """P(alive | x, t_x, T) = 1 / (1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))."""
    x, t_x, big_t = _rfm(frequency, recency, T)
    values = special.expit(-_log_dropout_odds(params, x, t_x, big_t))
    return _shaped(np.asarray(values, dtype=float), x)


def bg_nbd_conditional_expected_purchases(
    params: BgNbdParams, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray | float:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t]; t, t_x and T in params.unit.

    [(a+b+x−1)/(a−1)] · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
    · P(alive | x, t_x, T)   (Fader, Hardie & Lee 2005, eq. 10).
    """
    horizon = _check_horizon(t)
    x, t_x, big_t = _rfm(frequency, recency, T)
    horizon, x, t_x, big_t = np.broadcast_arrays(horizon, x, t_x, big_t)
    z = horizon / (params.alpha + big_t + horizon)
    tail = _hyp2f1_tail(params, x, z)
    head = (params.a + params.b + x - 1) / (params.a - 1)
    alive = special.expit(-_log_dropout_odds(params, x, t_x, big_t))
    values = head * (1 - tail) * alive
    return _shaped(np.asarray(values, dtype=float), x)


# --------------------------------------------------------------------------- Gamma–Gamma


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma–Gamma spend parameters (Fader, Hardie & Lee 2005 note; v is often written γ)."""

    p: float
    q: float
    v: float

    def __post_init__(self) -> None:
        for name in ("p", "q", "v"):
            value = getattr(self, name)
            if not (
                isinstance(value, (int, float, np.number)) and math.isfinite(value) and value > 0
            ):
                raise ValueError(
                    f"Gamma-Gamma parameter {name} must be finite and > 0, got {value!r}"
                )


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str


def _spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = _as_float_array("frequency", frequency)
    m = _as_float_array("monetary_value", monetary_value)
    try:
        x, m = np.broadcast_arrays(x, m)
    except ValueError:
        raise ValueError("frequency and monetary_value must have the same length") from None
    _first_bad("frequency", (x < 0) | (x != np.floor(x)), "must be a whole number >= 0")
    _first_bad("monetary_value", (x > 0) & (m <= 0), "must be > 0 for a repeat customer")
    return x, m


def _gamma_gamma_ll(p: float, q: float, v: float, x: FloatArray, m: FloatArray) -> FloatArray:
    result: FloatArray = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + m * x)
    )
    return result


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> float:
    """Log-likelihood of the mean repeat spends m̄ of customers with x > 0 (others ignored)."""
    x, m = _spend(frequency, monetary_value)
    keep = np.atleast_1d(x) > 0
    return float(
        np.sum(
            _gamma_gamma_ll(
                params.p, params.q, params.v, np.atleast_1d(x)[keep], np.atleast_1d(m)[keep]
            )
        )
    )


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood Gamma–Gamma fit on customers with at least one repeat purchase.

    Assumes spend per transaction is independent of purchase frequency (check the correlation
    of frequency and monetary_value first).
    """
    x, m = _spend(frequency, monetary_value)
    keep = np.atleast_1d(x) > 0
    x, m = np.atleast_1d(x)[keep], np.atleast_1d(m)[keep]
    if x.size == 0:
        raise ValueError("Gamma-Gamma needs customers with frequency > 0; none were given")
    scale = 1.0 / float(np.mean(m))  # fit in units of the mean spend, then scale v back

    def objective(log_params: FloatArray) -> float:
        p, q, v = np.exp(np.clip(log_params, -30, 30))
        value = -float(np.mean(_gamma_gamma_ll(p, q, v, x, m * scale)))
        return value if math.isfinite(value) else 1e300

    result = _minimise(objective, np.zeros(3))
    p, q, v = np.exp(result.x)
    params = GammaGammaParams(p=float(p), q=float(q), v=float(v / scale))
    return GammaGammaFit(
        params=params,
        log_likelihood=gamma_gamma_log_likelihood(params, x, m),
        n_customers=int(x.size),
        converged=bool(result.success),
        message=str(result.message),
    )


def gamma_gamma_conditional_expected_average_profit(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray | float:
    """E[M | x, m̄] = p(v + x·m̄) / (p·x + q − 1); for x = 0 the population mean p·v/(q − 1)."""
    if params.q <= 1:
        raise ValueError(f"the expected spend is infinite unless q > 1, got q={params.q}")
    x, m = _spend(frequency, monetary_value)
    values = params.p * (params.v + x * m) / (params.p * x + params.q - 1)
    return _shaped(np.asarray(values, dtype=float), x)


# --------------------------------------------------------------------------- CLV from the models


def clv_bg_nbd_gamma_gamma(
    bg_nbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
    units_per_month: float | None = None,
) -> FloatArray | float:
    """Discounted expected value over the next `horizon_months` months, per customer.

    CLV = Σ_{k=1..H} E[M] · (E[Y(k·f)] − E[Y((k−1)·f)]) / (1 + d)^k, with E[M] the Gamma–Gamma
    expected average profit, E[Y] the BG/NBD conditional expectation in bg_nbd.unit, d a
    monthly discount rate and f the model time units per month (30 days, 4.345 weeks or
    1 month unless `units_per_month` says otherwise) — the algorithm of lifetimes and
    pymc-marketing. recency and T are in bg_nbd.unit.
    """
    if (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, int)
        or horizon_months < 0
    ):
        raise ValueError(f"horizon_months must be a whole number >= 0, got {horizon_months!r}")
    if not monthly_discount_rate > -1 or not math.isfinite(monthly_discount_rate):
        raise ValueError(
            f"monthly_discount_rate must be a finite fraction > -1, got {monthly_discount_rate}"
        )
    f = UNITS_PER_MONTH[bg_nbd.unit] if units_per_month is None else units_per_month
    if not f > 0 or not math.isfinite(f):
        raise ValueError(f"units_per_month must be > 0, got {units_per_month}")
    spend = np.asarray(
        gamma_gamma_conditional_expected_average_profit(gamma_gamma, frequency, monetary_value)
    )
    x, t_x, big_t = _rfm(frequency, recency, T)
    total = np.zeros(np.broadcast(x, spend).shape)
    previous = np.zeros_like(total)
    for k in range(1, horizon_months + 1):
        cumulative = np.asarray(bg_nbd_conditional_expected_purchases(bg_nbd, k * f, x, t_x, big_t))
        total = total + spend * (cumulative - previous) / (1 + monthly_discount_rate) ** k
        previous = cumulative
    return _shaped(np.asarray(total, dtype=float), x)


# --------------------------------------------------------------------------- RFM summary


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    unit: SummaryUnit,
    customer: str = "customer_id",
    timestamp: str = "timestamp",
    monetary: str | None = None,
    observation_end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per-customer frequency, recency, T (and monetary_value) for BG/NBD and Gamma–Gamma.

    Transactions on the same calendar day (local wall-clock) are one purchase occasion (their
    values are summed). frequency = occasions − 1 (repeat purchases); recency = first to last
    occasion; T = first occasion to `observation_end` (default: the last day in the data), both
    in `unit` ("days", or "weeks" = days / 7, fractional). monetary_value = mean value of the
    repeat occasions (0 for customers without one). The unit is stored in `result.attrs["unit"]`.
    """
    if unit not in _DAYS_PER_UNIT:
        raise ValueError(f"unit must be one of {sorted(_DAYS_PER_UNIT)}, got {unit!r}")
    needed = [customer, timestamp] + ([monetary] if monetary is not None else [])
    for column in needed:
        if column not in transactions.columns:
            raise ValueError(
                f"transactions has no column {column!r} (columns: {list(transactions.columns)})"
            )
        missing = transactions[column].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"column {column!r} is missing a value at row {int(np.flatnonzero(missing)[0])}"
            )
    stamps = transactions[timestamp]
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        raise ValueError(f"column {timestamp!r} must hold datetimes, got dtype {stamps.dtype}")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)
    frame = pd.DataFrame(
        {"customer": transactions[customer].to_numpy(), "day": stamps.dt.floor("D").to_numpy()}
    )
    if monetary is not None:
        values = transactions[monetary]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            raise ValueError(f"column {monetary!r} must be numeric, got dtype {values.dtype}")
        amounts = values.to_numpy(dtype=float)
        _first_bad(
            f"column {monetary!r} row",
            ~np.isfinite(amounts) | (amounts < 0),
            "must be a finite amount >= 0",
        )
        frame["value"] = amounts
    else:
        frame["value"] = 0.0
    if observation_end is None:
        end = frame["day"].max()
    else:
        cut = pd.Timestamp(observation_end)
        end = (cut.tz_localize(None) if cut.tz is not None else cut).floor("D")
    _first_bad(
        "transactions row",
        (frame["day"] > end).to_numpy(),
        f"is after observation_end={observation_end}",
    )
    occasions = frame.groupby(["customer", "day"], sort=True)["value"].sum().reset_index()
    grouped = occasions.groupby("customer", sort=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    count = grouped.size()
    first_value = grouped["value"].first()
    total_value = grouped["value"].sum()
    per_unit = float(_DAYS_PER_UNIT[unit])
    result = pd.DataFrame(
        {
            "frequency": (count - 1).astype(int),
            "recency": (last - first).dt.days / per_unit,
            "T": (end - first).dt.days / per_unit,
        }
    )
    if monetary is not None:
        repeats = count - 1
        result["monetary_value"] = np.where(
            repeats > 0, (total_value - first_value) / repeats.where(repeats > 0, 1), 0.0
        )
    result.index.name = customer
    result.attrs["unit"] = unit
    return result
