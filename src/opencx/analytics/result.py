"""What every metric returns: a frozen value with its n and interval, never a bare number."""

from dataclasses import dataclass

THIN_SAMPLE = 30  # a heuristic flag for the UI, not a statistical rule


@dataclass(frozen=True)
class Score:
    """A metric value on its display scale, with n and interval bounds (None when undefined)."""

    value: float | None
    n: int
    ci_low: float | None
    ci_high: float | None

    @property
    def is_thin(self) -> bool:
        return self.n < THIN_SAMPLE

    @classmethod
    def empty(cls) -> "Score":
        return cls(value=None, n=0, ci_low=None, ci_high=None)
