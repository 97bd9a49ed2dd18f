"""Did a score change, or differ between two groups? NPS and proportion comparisons.

Reference section 2.1 and 2.3. Every comparison returns a :class:`Comparison` on the display
scale: NPS points (a difference of two NPS values lies in −200..200) or percentage points.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scipy import stats

from opencx.analytics.stats.intervals import wilson, z_for

NpsCounts = tuple[int, int, int]  # (n, promoters, detractors)


@dataclass(frozen=True)
class Comparison:
    """A difference (first minus second, or after minus before) with its interval and test."""

    difference: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float


def _check_counts(n: int, promoters: int, detractors: int, label: str = "") -> None:
    for name, value in (("n", n), ("promoters", promoters), ("detractors", detractors)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{label}{name} must be a whole number, got {value!r}")
        if value < 0:
            raise ValueError(f"{label}{name} must not be negative, got {value}")
    if promoters + detractors > n:
        raise ValueError(f"{label}promoters + detractors ({promoters} + {detractors}) exceed n={n}")


def nps_variance(promoter_share: float, detractor_share: float) -> float:
    """Variance of one response coded +1/0/−1: V = p + d − (p − d)² (trinomial model)."""
    p, d = promoter_share, detractor_share
    if not (0 <= p <= 1 and 0 <= d <= 1 and p + d <= 1 + 1e-12):
        raise ValueError(f"shares must be in 0..1 and sum to at most 1, got p={p}, d={d}")
    return max(0.0, p + d - (p - d) ** 2)


def nps_standard_error(
    n: int, promoters: int, detractors: int, population: int | None = None
) -> float:
    """Standard error of NPS in points: 100·√(V/n), V = p + d − (p − d)².

    ``population`` (the number of customers the sample was drawn from) applies the
    finite-population correction √((N − n)/(N − 1)).
    """
    _check_counts(n, promoters, detractors)
    if n == 0:
        raise ValueError("the standard error needs at least one response, got n=0")
    se = 100.0 * math.sqrt(nps_variance(promoters / n, detractors / n) / n)
    if population is not None:
        if isinstance(population, bool) or not isinstance(population, int) or population < n:
            raise ValueError(f"population must be a whole number >= n={n}, got {population!r}")
        se *= math.sqrt((population - n) / (population - 1)) if population > 1 else 0.0
    return se


def _two_sided(statistic: float) -> float:
    return float(2 * stats.norm.sf(abs(statistic)))


def _z_statistic(difference: float, se: float) -> float:
    if se > 0:
        return difference / se
    return 0.0 if difference == 0 else math.copysign(math.inf, difference)


def nps_difference(
    a: NpsCounts,
    b: NpsCounts,
    confidence: float = 0.95,
    method: Literal["adjusted_wald", "wald"] = "adjusted_wald",
) -> Comparison:
    """NPS(a) − NPS(b) in points for two independent samples, each given as (n, promoters,
    detractors).

    ``difference`` is always the observed difference of the two NPS values. With the default
    ``method="adjusted_wald"`` (MeasuringU's recommended test) both the z statistic and the
    interval use the adjusted inputs of each group — n + 3 responses, promoters + ¾ and
    detractors + ¾ — so the interval is centred on the adjusted difference, which is pulled
    slightly towards 0. ``method="wald"`` uses the raw shares: z = (NPS_a − NPS_b) /
    √(V_a/n_a + V_b/n_b) and an interval centred on the observed difference.
    """
    adjusted = {"adjusted_wald": True, "wald": False}.get(method)
    if adjusted is None:
        raise ValueError(f"method must be 'adjusted_wald' or 'wald', got {method!r}")
    terms = []
    for label, counts in (("a", a), ("b", b)):
        if len(counts) != 3:
            raise ValueError(f"{label} must be (n, promoters, detractors), got {counts!r}")
        n, promoters, detractors = counts
        _check_counts(n, promoters, detractors, label=f"{label}: ")
        if n == 0:
            raise ValueError(f"{label}: a comparison needs at least one response, got n=0")
        extra, share_extra = (3, 0.75) if adjusted else (0, 0.0)
        p = (promoters + share_extra) / (n + extra)
        d = (detractors + share_extra) / (n + extra)
        terms.append(
            (100.0 * (promoters - detractors) / n, p - d, nps_variance(p, d) / (n + extra))
        )
    (nps_a, centre_a, var_a), (nps_b, centre_b, var_b) = terms
    centre = 100.0 * (centre_a - centre_b)
    se = 100.0 * math.sqrt(var_a + var_b)
    statistic = _z_statistic(centre, se)
    z = z_for(confidence)
    return Comparison(
        difference=nps_a - nps_b,
        ci_low=max(-200.0, centre - z * se),
        ci_high=min(200.0, centre + z * se),
        statistic=statistic,
        p_value=_two_sided(statistic),
    )


def proportion_difference(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> Comparison:
    """k1/n1 − k2/n2 in percentage points for two independent samples.

    Test: the pooled two-proportion z test. Interval: Newcombe's hybrid score interval (1998,
    method 10), built from the two Wilson intervals, which stays inside −100..100 and keeps good
    coverage for small n and extreme shares.
    """
    for label, k, n in (("1", k1, n1), ("2", k2, n2)):
        for name, value in ((f"k{label}", k), (f"n{label}", n)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"need 0 <= k{label} <= n{label} and n{label} > 0, got {k} of {n}")
    p1, p2 = k1 / n1, k2 / n2
    w1, w2 = wilson(k1, n1, confidence), wilson(k2, n2, confidence)
    assert w1 is not None and w2 is not None  # n > 0 was checked above
    difference = p1 - p2
    low = difference - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = difference + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    statistic = _z_statistic(difference, se)
    return Comparison(
        difference=100.0 * difference,
        ci_low=100.0 * low,
        ci_high=100.0 * high,
        statistic=statistic,
        p_value=_two_sided(statistic),
    )


def mean_difference_from_sums(
    first: tuple[int, float, float],
    second: tuple[int, float, float],
    confidence: float = 0.95,
    alternative: Literal["two-sided", "less"] = "two-sided",
) -> Comparison | None:
    """Mean of the first sample minus mean of the second, each given as additive sums
    (n, Σx, Σx²), as rollups keep them. Welch's t test and interval (unequal variances); with
    `alternative="less"` the p-value is one-sided, for "the first mean is lower". None when
    either sample has fewer than two values."""
    (n1, s1, q1), (n2, s2, q2) = first, second
    if n1 < 2 or n2 < 2:
        return None
    m1, m2 = s1 / n1, s2 / n2
    v1 = max(0.0, (q1 - n1 * m1 * m1) / (n1 - 1))
    v2 = max(0.0, (q2 - n2 * m2 * m2) / (n2 - 1))
    a, b = v1 / n1, v2 / n2
    difference = m1 - m2
    se = math.sqrt(a + b)
    if se == 0:  # both samples constant: the difference is exact
        if alternative == "less":
            p_value = 0.0 if difference < 0 else 1.0
        else:
            p_value = 0.0 if difference != 0 else 1.0
        return Comparison(difference, difference, difference, 0.0, p_value)
    df = (a + b) ** 2 / ((a * a / (n1 - 1) if a else 0.0) + (b * b / (n2 - 1) if b else 0.0))
    statistic = difference / se
    margin = float(stats.t.ppf(1 - (1 - confidence) / 2, df)) * se
    if alternative == "less":
        p_value = float(stats.t.cdf(statistic, df))
    else:
        p_value = float(2 * stats.t.sf(abs(statistic), df))
    return Comparison(
        difference=difference,
        ci_low=difference - margin,
        ci_high=difference + margin,
        statistic=statistic,
        p_value=p_value,
    )


def _codes(values: Sequence[int], label: str) -> list[int]:
    codes = list(values)
    for position, code in enumerate(codes):
        if isinstance(code, bool) or code not in (-1, 0, 1):
            raise ValueError(f"{label} #{position}: NPS codes must be -1, 0 or 1, got {code!r}")
    return [int(code) for code in codes]


def paired_nps_difference(
    codes_before: Sequence[int], codes_after: Sequence[int], confidence: float = 0.95
) -> Comparison:
    """Change in NPS (after − before, in points) for the same respondents, in the same order.

    Each respondent's answer is coded +1 promoter / 0 passive / −1 detractor (see
    ``opencx.analytics.metrics.nps.classify``). A paired t test on the per-respondent
    differences gives the statistic (t, n − 1 degrees of freedom), p-value and interval.
    """
    before, after = _codes(codes_before, "before"), _codes(codes_after, "after")
    if len(before) != len(after):
        raise ValueError(
            f"before and after must pair the same respondents, got {len(before)} and {len(after)}"
        )
    n = len(before)
    if n < 2:
        raise ValueError(f"a paired test needs at least 2 respondents, got {n}")
    diffs = [100.0 * (y - x) for x, y in zip(before, after, strict=True)]
    mean = sum(diffs) / n
    sd = math.sqrt(sum((value - mean) ** 2 for value in diffs) / (n - 1))
    se = sd / math.sqrt(n)
    statistic = _z_statistic(mean, se)
    z_for(confidence)  # validates the level
    quantile = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    p_value = float(2 * stats.t.sf(abs(statistic), n - 1))
    return Comparison(
        difference=mean,
        ci_low=max(-200.0, mean - quantile * se),
        ci_high=min(200.0, mean + quantile * se),
        statistic=statistic,
        p_value=p_value,
    )
