"""Key-driver analysis: which drivers (touchpoint ratings, topics) move an outcome such as NPS.

Reference section 2.6. Three methods, all computed from the correlation matrix of the complete
rows (R² is the same for raw and standardised variables):

- ``"correlation"``: Pearson r per driver; importance r², Fisher-z interval. Simple, but shared
  variance is counted once per driver, so the r² add up to more than the model R².
- ``"johnson"``: Johnson's (2000) relative weights; they add up to the model R².
- ``"shapley"``: Shapley value regression (LMG): each driver's average gain in R² over all
  subsets of the other drivers; exact over the 2^k subsets, they add up to the model R².

Johnson and Shapley intervals are percentile bootstrap intervals over resampled rows.
"""

import math
from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations

import numpy as np
import pandas as pd

from opencx.analytics.stats.intervals import z_for

METHODS = ("correlation", "johnson", "shapley")
MAX_SHAPLEY_DRIVERS = 12
OUTPUT_COLUMNS = ["driver", "importance", "share", "ci_low", "ci_high"]


def relative_weights(r_xx: np.ndarray, r_xy: np.ndarray) -> np.ndarray:
    """Johnson's relative weights from the driver correlation matrix and driver–outcome r.

    R_xx = VΛV′, Λ* = VΛ^½V′, β* = Λ*⁻¹ r_xy, ε = (Λ*∘Λ*)(β*∘β*); Σε equals the model R².
    """
    r_xx, r_xy = np.asarray(r_xx, dtype=float), np.asarray(r_xy, dtype=float)
    k = len(r_xy)
    if r_xx.shape != (k, k):
        raise ValueError(f"r_xx must be {k}x{k} to match r_xy, got {r_xx.shape}")
    eigenvalues, vectors = np.linalg.eigh(r_xx)
    if eigenvalues.min() <= 1e-10 * max(1.0, eigenvalues.max()):
        raise ValueError("the drivers are perfectly collinear (singular correlation matrix)")
    root = vectors @ np.diag(np.sqrt(eigenvalues)) @ vectors.T
    beta = np.linalg.solve(root, r_xy)
    return (root**2) @ (beta**2)


@lru_cache(maxsize=16)
def _subsets(k: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """For each subset size 1..k: the subsets as index rows and their bit masks."""
    out = []
    for size in range(1, k + 1):
        subsets = np.array(list(combinations(range(k), size)))
        out.append((subsets, (1 << subsets).sum(axis=1)))
    return tuple(out)


@lru_cache(maxsize=16)
def _shapley_plan(k: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """For each driver j: masks S without j, masks S ∪ {j}, and the weights |S|!(k−|S|−1)!/k!."""
    masks = np.arange(1 << k)
    sizes = np.array([mask.bit_count() for mask in range(1 << k)])
    weights = np.array(
        [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
        + [0.0]
    )
    plan = []
    for j in range(k):
        without = masks[(masks >> j) & 1 == 0]
        plan.append((without, without | (1 << j), weights[sizes[without]]))
    return tuple(plan)


def _subset_r2(r_xx: np.ndarray, r_xy: np.ndarray) -> np.ndarray:
    """R² of every subset of drivers, indexed by bit mask (bit j set = driver j included)."""
    k = len(r_xy)
    r2 = np.zeros(1 << k)
    for subsets, masks in _subsets(k):
        blocks = r_xx[subsets[:, :, None], subsets[:, None, :]]
        vectors = r_xy[subsets]
        try:
            solved = np.linalg.solve(blocks, vectors[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            raise ValueError(
                "the drivers are perfectly collinear (singular correlation matrix)"
            ) from None
        r2[masks] = np.einsum("ij,ij->i", vectors, solved)
    return r2


def shapley_values(r_xx: np.ndarray, r_xy: np.ndarray) -> np.ndarray:
    """Shapley decomposition (LMG) of R²: φ_j = Σ_S |S|!(k−|S|−1)!/k! · (R²(S∪j) − R²(S))."""
    r_xx, r_xy = np.asarray(r_xx, dtype=float), np.asarray(r_xy, dtype=float)
    k = len(r_xy)
    if r_xx.shape != (k, k):
        raise ValueError(f"r_xx must be {k}x{k} to match r_xy, got {r_xx.shape}")
    if k > MAX_SHAPLEY_DRIVERS:
        raise ValueError(
            f"Shapley regression is exact over 2^k subsets; at most {MAX_SHAPLEY_DRIVERS} "
            f"drivers, got {k} (use method='johnson')"
        )
    r2 = _subset_r2(r_xx, r_xy)
    return np.array(
        [np.dot(weights, r2[with_j] - r2[without]) for without, with_j, weights in _shapley_plan(k)]
    )


def _complete_rows(
    frame: pd.DataFrame, outcome: str, drivers: Sequence[str]
) -> tuple[np.ndarray, int]:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    drivers = list(drivers)
    if not drivers:
        raise ValueError("drivers is empty")
    if outcome in drivers:
        raise ValueError(f"the outcome {outcome!r} is also listed as a driver")
    duplicated = sorted({d for d in drivers if drivers.count(d) > 1})
    if duplicated:
        raise ValueError(f"driver(s) listed twice: {duplicated}")
    for column in [outcome, *drivers]:
        if column not in frame.columns:
            raise ValueError(f"column {column!r} is not in the frame")
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise ValueError(f"column {column!r} must be numeric, got dtype {dtype}")
    data = frame[[*drivers, outcome]].astype(float)
    complete = data.dropna()
    values = complete.to_numpy()
    if not np.all(np.isfinite(values)):
        raise ValueError("drivers and outcome must be finite numbers (found inf)")
    return values, len(data) - len(complete)


def _correlations(values: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    spread = values.std(axis=0)
    flat = [name for name, s in zip(names, spread, strict=True) if s == 0]
    if flat:
        raise ValueError(f"column(s) with no variance in the complete rows: {flat}")
    matrix = np.corrcoef(values, rowvar=False)
    return matrix[:-1, :-1], matrix[:-1, -1]


def _importance(method: str, r_xx: np.ndarray, r_xy: np.ndarray) -> np.ndarray:
    if method == "johnson":
        return relative_weights(r_xx, r_xy)
    if method == "shapley":
        return shapley_values(r_xx, r_xy)
    return r_xy**2


def key_drivers(
    frame: pd.DataFrame,
    outcome: str,
    drivers: list[str],
    method: str = "shapley",
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Importance of each driver for ``outcome``, sorted by importance (largest first).

    Columns: driver, importance, share, ci_low, ci_high. ``importance`` is on the R² scale (r²
    for "correlation"); ``share`` is importance ÷ the full-model R² (for Johnson and Shapley the
    shares add up to 1; for correlations they can add up to more). "correlation" also returns
    the signed ``r``; its interval is the Fisher-z interval of r, carried over to r². Johnson
    and Shapley intervals are percentile intervals over ``bootstrap`` resamples of the rows
    (``bootstrap=0`` leaves them NaN). Rows with a missing value in any used column are dropped;
    ``result.attrs["dropped_rows"]`` counts them and ``attrs["n"]``, ``attrs["r2"]`` give the
    rows used and the model R².
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a whole number >= 0, got {bootstrap!r}")
    z = z_for(confidence)
    names = list(drivers)
    values, dropped = _complete_rows(frame, outcome, names)
    n, k = values.shape[0], len(names)
    if n < k + 2:
        raise ValueError(f"{n} complete rows are too few for {k} drivers (need at least {k + 2})")
    if method == "shapley" and k > MAX_SHAPLEY_DRIVERS:
        raise ValueError(
            f"Shapley regression is exact over 2^k subsets; at most {MAX_SHAPLEY_DRIVERS} "
            f"drivers, got {k} (use method='johnson')"
        )
    r_xx, r_xy = _correlations(values, [*names, outcome])
    try:
        r2 = float(r_xy @ np.linalg.solve(r_xx, r_xy))
    except np.linalg.LinAlgError:
        raise ValueError(
            "the drivers are perfectly collinear (singular correlation matrix)"
        ) from None
    importance = _importance(method, r_xx, r_xy)
    result = pd.DataFrame({"driver": names, "importance": importance})
    result["share"] = importance / r2 if r2 > 0 else np.nan

    failed = 0
    if method == "correlation":
        fisher = np.arctanh(np.clip(r_xy, -1 + 1e-15, 1 - 1e-15))
        half = z / math.sqrt(n - 3) if n > 3 else math.inf
        r_low, r_high = np.tanh(fisher - half), np.tanh(fisher + half)
        spans_zero = (r_low <= 0) & (r_high >= 0)
        result["ci_low"] = np.where(spans_zero, 0.0, np.minimum(r_low**2, r_high**2))
        result["ci_high"] = np.maximum(r_low**2, r_high**2)
        result["r"] = r_xy
    elif bootstrap == 0:
        result["ci_low"] = result["ci_high"] = np.nan
    else:
        rng = np.random.default_rng(seed)
        samples = []
        for _ in range(bootstrap):
            rows = values[rng.integers(0, n, size=n)]
            if np.any(rows.std(axis=0) == 0):
                failed += 1
                continue
            matrix = np.corrcoef(rows, rowvar=False)
            try:
                samples.append(_importance(method, matrix[:-1, :-1], matrix[:-1, -1]))
            except (ValueError, np.linalg.LinAlgError):
                failed += 1
        if failed > bootstrap / 2:
            raise ValueError(
                f"{failed} of {bootstrap} bootstrap resamples had a constant or collinear column;"
                " the data are too thin for bootstrap intervals (use bootstrap=0)"
            )
        low, high = np.quantile(
            np.array(samples), [(1 - confidence) / 2, (1 + confidence) / 2], axis=0
        )
        result["ci_low"], result["ci_high"] = low, high

    result = result.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    result.attrs.update(
        {
            "dropped_rows": int(dropped),
            "n": int(n),
            "r2": r2,
            "method": method,
            "bootstrap_failed": failed,
        }
    )
    return result
