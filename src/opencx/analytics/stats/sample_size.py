"""How many responses are needed for a chosen margin of error (reference section 2.4)."""

import math

from opencx.analytics.stats.intervals import z_for


def _round_up(n: float) -> int:
    # 384.16 -> 385, but 385.0000000001 (floating-point noise) stays 385.
    return max(1, math.ceil(round(n, 9)))


def _finite_population(n0: float, population: int | None) -> float:
    if population is None:
        return n0
    if isinstance(population, bool) or not isinstance(population, int) or population < 1:
        raise ValueError(f"population must be a whole number >= 1, got {population!r}")
    return n0 / (1 + (n0 - 1) / population)


def sample_size_proportion(
    margin: float, confidence: float = 0.95, p: float = 0.5, population: int | None = None
) -> int:
    """n = z²·p(1 − p)/E², rounded up; ``margin`` E is a fraction (0.05 for ±5 points).

    ``p = 0.5`` is the worst case. With ``population`` N the finite-population correction
    n/(1 + (n − 1)/N) is applied before rounding.
    """
    if not 0 < margin < 1:
        raise ValueError(
            f"margin must be a fraction between 0 and 1 (0.05 = ±5 points), got {margin}"
        )
    if not 0 < p < 1:
        raise ValueError(f"p must be strictly between 0 and 1, got {p}")
    z = z_for(confidence)
    return _round_up(_finite_population(z * z * p * (1 - p) / margin**2, population))


def sample_size_nps(
    margin_points: float,
    confidence: float = 0.95,
    promoters: float = 0.5,
    detractors: float = 0.5,
    population: int | None = None,
) -> int:
    """n = z²·V/E² with V = p + d − (p − d)², rounded up; ``margin_points`` is in NPS points
    (5 = ±5), ``promoters`` and ``detractors`` are expected shares (0..1).

    The defaults p = d = 0.5 give the worst case V = 1. With p = d = 1/3 (V = 2/3) a ±5-point
    margin needs about 1,025 responses.
    """
    if not 0 < margin_points <= 200:
        raise ValueError(f"margin_points must be between 0 and 200 NPS points, got {margin_points}")
    for name, share in (("promoters", promoters), ("detractors", detractors)):
        if not 0 <= share <= 1:
            raise ValueError(f"{name} must be a share between 0 and 1, got {share}")
    if promoters + detractors > 1:
        raise ValueError(f"promoters + detractors must not exceed 1, got {promoters + detractors}")
    variance = promoters + detractors - (promoters - detractors) ** 2
    if variance <= 0:
        raise ValueError(
            "with no spread (all promoters, all detractors or all passives) any n has zero "
            f"margin; got promoters={promoters}, detractors={detractors}"
        )
    z = z_for(confidence)
    margin = margin_points / 100
    return _round_up(_finite_population(z * z * variance / margin**2, population))
