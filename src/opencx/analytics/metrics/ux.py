"""UX benchmarking: task success rate, error rate, time on task (geometric mean).

See docs/metrics/ux.md and shared reference section 1.12 (Sauro & Lewis).
"""

import math
from collections.abc import Iterable
from typing import Literal

import numpy as np
from scipy import stats

from opencx.analytics.metrics.churn import percent_score
from opencx.analytics.result import Score
from opencx.analytics.stats.intervals import agresti_coull, z_for

SuccessInterval = Literal["adjusted_wald", "wilson"]


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


def task_success_rate(
    *,
    successes: int,
    attempts: int,
    interval: SuccessInterval = "adjusted_wald",
    confidence: float = 0.95,
) -> Score:
    """Successful attempts ÷ attempts × 100 with a small-sample interval.

    The point estimate is the observed rate. The default interval is the adjusted-Wald
    (Agresti–Coull), which Sauro & Lewis recommend for completion rates from small usability
    tests; `interval="wilson"` gives the Wilson score interval instead.
    """
    _check_counts(successes=successes, attempts=attempts)
    if successes > attempts:
        raise ValueError(f"successes={successes} exceeds attempts={attempts}")
    if interval == "wilson":
        return percent_score(successes, attempts, confidence)
    if interval != "adjusted_wald":
        raise ValueError(f"interval must be 'adjusted_wald' or 'wilson', got {interval!r}")
    if attempts == 0:
        return Score.empty()
    bounds = agresti_coull(successes, attempts, confidence)
    assert bounds is not None  # attempts > 0 here
    return Score(
        value=100.0 * successes / attempts,
        n=attempts,
        ci_low=100.0 * bounds.low,
        ci_high=100.0 * bounds.high,
    )


def error_rate(*, errors: int, opportunities: int, confidence: float = 0.95) -> Score:
    """Errors ÷ error opportunities × 100 (Wilson interval; at most one error per opportunity).

    With opportunities = attempts this is the simple errors-per-attempt form; with
    errors = users who made at least one error and opportunities = users it is the share of
    users with an error.
    """
    _check_counts(errors=errors, opportunities=opportunities)
    if errors > opportunities:
        raise ValueError(
            f"errors={errors} exceeds opportunities={opportunities}; "
            "an opportunity can hold at most one error"
        )
    return percent_score(errors, opportunities, confidence)


def time_on_task(times: Iterable[float], confidence: float = 0.95) -> Score:
    """Geometric mean task time with a t-interval computed on log times and back-transformed.

    Times must be positive and finite (same unit in, same unit out). Decide beforehand whether
    failed attempts belong in the sample. With a single time there is no interval.
    """
    values: list[float] = []
    for position, time in enumerate(times):
        if isinstance(time, bool) or not isinstance(time, (int, float, np.integer, np.floating)):
            raise ValueError(f"time #{position}: expected a number, got {time!r}")
        if not math.isfinite(time) or time <= 0:
            raise ValueError(
                f"time #{position}: task times must be positive and finite, got {time}"
            )
        values.append(float(time))
    if not values:
        return Score.empty()
    logs = np.log(np.asarray(values))
    n = logs.size
    centre = float(logs.mean())
    if n == 1:
        return Score(value=math.exp(centre), n=1, ci_low=None, ci_high=None)
    z_for(confidence)  # validates confidence
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * logs.std(ddof=1) / math.sqrt(n))
    return Score(
        value=math.exp(centre), n=n, ci_low=math.exp(centre - half), ci_high=math.exp(centre + half)
    )
