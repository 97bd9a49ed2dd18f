"""Adjusted p-values when many locations (or periods, or questions) are compared at once.

Holm (1979) controls the family-wise error rate; Benjamini–Hochberg (1995) the false discovery
rate. Both return adjusted p-values in the input order: compare each with the chosen α.
"""

import math
from collections.abc import Sequence


def _checked(p_values: Sequence[float]) -> list[float]:
    values = list(p_values)
    checked = []
    for position, p in enumerate(values):
        try:
            if isinstance(p, bool | str | bytes):
                raise TypeError
            number = float(p)
        except (TypeError, ValueError):
            raise ValueError(f"p-value #{position} is not a number: {p!r}") from None
        if math.isnan(number) or not 0 <= number <= 1:
            raise ValueError(f"p-value #{position} must be between 0 and 1, got {p!r}")
        checked.append(number)
    return checked


def bonferroni(p_values: Sequence[float]) -> list[float]:
    """min(1, m·p) for each of the m p-values."""
    values = _checked(p_values)
    return [min(1.0, len(values) * p) for p in values]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: sorted ascending, p̃₍ᵢ₎ = maxⱼ≤ᵢ min(1, (m − j + 1)·p₍ⱼ₎)."""
    values = _checked(p_values)
    m = len(values)
    order = sorted(range(m), key=values.__getitem__)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg step-up adjustment: p̃₍ᵢ₎ = minⱼ≥ᵢ min(1, m·p₍ⱼ₎/j)."""
    values = _checked(p_values)
    m = len(values)
    order = sorted(range(m), key=values.__getitem__)
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):
        index = order[rank]
        running = min(running, m * values[index] / (rank + 1))
        adjusted[index] = running
    return adjusted
