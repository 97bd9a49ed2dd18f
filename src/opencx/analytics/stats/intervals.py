"""Confidence intervals used across metrics (see docs and shared reference section 2)."""

import math
from dataclasses import dataclass
from statistics import NormalDist


def z_for(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a proportion (0..1); None when n is 0."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    z = z_for(confidence)
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    low, high = (centre - spread) / denominator, (centre + spread) / denominator
    # At p = 0 or 1 the exact bound is 0 or 1; floating point lands a hair off.
    return Interval(0.0 if successes == 0 else low, 1.0 if successes == n else high)


def agresti_coull(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Adjusted-Wald (Agresti–Coull): add z²/2 successes and z² trials, then Wald, clamped."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    z = z_for(confidence)
    n_adjusted = n + z * z
    p_adjusted = (successes + z * z / 2) / n_adjusted
    spread = z * math.sqrt(p_adjusted * (1 - p_adjusted) / n_adjusted)
    return Interval(max(0.0, p_adjusted - spread), min(1.0, p_adjusted + spread))


def nps_adjusted_wald(
    promoters: int, detractors: int, n: int, confidence: float = 0.95
) -> Interval | None:
    """Adjusted-Wald interval for NPS on the −1..1 scale (Rocks 2016; Sauro & Lewis)."""
    if n < 0 or promoters < 0 or detractors < 0 or promoters + detractors > n:
        raise ValueError(f"inconsistent counts: {promoters} + {detractors} > n={n}")
    if n == 0:
        return None
    z = z_for(confidence)
    p = (promoters + 0.75) / (n + 3)
    d = (detractors + 0.75) / (n + 3)
    centre = p - d
    spread = z * math.sqrt((p + d - centre * centre) / (n + 3))
    return Interval(max(-1.0, centre - spread), min(1.0, centre + spread))
