"""Empirical-Bayes shrinkage for ranking many small locations (reference section 2.5).

A prior is fitted across all groups by maximum likelihood of the marginal distribution of the
counts (beta-binomial for a share, Dirichlet-multinomial for NPS); each group's estimate is its
posterior mean and its interval an equal-tailed credible interval. Small groups are pulled
towards the overall level, large groups hardly move, so ranking by the estimate (or,
conservatively, by ``ci_low``) is not dominated by lucky tiny samples. The fitted prior is used
as if known: the intervals do not include the uncertainty of the prior itself.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as distributions

# Prior concentrations (alpha + beta, or the Dirichlet total) are kept in this range. The upper
# end is reached when the groups vary no more than sampling noise explains: complete pooling.
MIN_CONCENTRATION = 1e-3
MAX_CONCENTRATION = 1e7
DRAWS = 20_000


@dataclass(frozen=True)
class Shrunk:
    """One group's raw value, shrunken estimate and credible interval (0..100 or NPS points)."""

    raw: float | None
    estimate: float
    ci_low: float
    ci_high: float
    n: int


def _whole(value: object, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{label} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{label} must not be negative, got {value}")
    return int(value)


def _tails(confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return (1 - confidence) / 2, (1 + confidence) / 2


def _moment_concentration(successes: np.ndarray, trials: np.ndarray, mean: float) -> float:
    """Method-of-moments start for alpha + beta from the spread of the raw shares."""
    used = trials > 0
    shares = successes[used] / trials[used]
    base = mean * (1 - mean)
    if len(shares) < 2 or base <= 0:
        return 10.0
    inverse_n = float(np.mean(1 / trials[used]))
    rho = (float(np.var(shares, ddof=1)) / base - inverse_n) / max(1 - inverse_n, 1e-9)
    rho = min(max(rho, 1 / (MAX_CONCENTRATION + 1)), 1 - 1e-6)
    return min(max(1 / rho - 1, MIN_CONCENTRATION), MAX_CONCENTRATION)


def beta_binomial_prior(successes: Sequence[int], trials: Sequence[int]) -> tuple[float, float]:
    """Maximum-likelihood (alpha, beta) of the beta-binomial marginal across groups."""
    k, n = _binomial_counts(successes, trials)
    return _fit_beta(k, n)


def _binomial_counts(
    successes: Sequence[int], trials: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    ks, ns = list(successes), list(trials)
    if len(ks) != len(ns):
        raise ValueError(f"successes has {len(ks)} groups but trials has {len(ns)}")
    for position, (k, n) in enumerate(zip(ks, ns, strict=True)):
        _whole(k, f"successes #{position}")
        _whole(n, f"trials #{position}")
        if k > n:
            raise ValueError(f"group #{position}: successes {k} exceed trials {n}")
    k_arr, n_arr = np.array(ks, dtype=float), np.array(ns, dtype=float)
    if np.count_nonzero(n_arr) < 2:
        raise ValueError("fitting a prior needs at least two groups with trials > 0")
    return k_arr, n_arr


def _fit_beta(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    used = n > 0
    k, n = k[used], n[used]
    pooled = float(k.sum() / n.sum())
    mean_start = min(max(pooled, 1e-6), 1 - 1e-6)
    start = np.array([special.logit(mean_start), math.log(_moment_concentration(k, n, mean_start))])

    def negative_log_likelihood(theta: np.ndarray) -> tuple[float, np.ndarray]:
        mu, kappa = special.expit(theta[0]), math.exp(theta[1])
        a, b = mu * kappa, (1 - mu) * kappa
        value = np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b))
        common = special.digamma(kappa) - special.digamma(n + kappa)
        d_a = np.sum(special.digamma(k + a) - special.digamma(a) + common)
        d_b = np.sum(special.digamma(n - k + b) - special.digamma(b) + common)
        d_mu = kappa * mu * (1 - mu) * (d_a - d_b)
        d_kappa = a * d_a + b * d_b
        return -float(value), -np.array([d_mu, d_kappa])

    result = optimize.minimize(
        negative_log_likelihood,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-30.0, 30.0), (math.log(MIN_CONCENTRATION), math.log(MAX_CONCENTRATION))],
    )
    mu, kappa = float(special.expit(result.x[0])), math.exp(float(result.x[1]))
    return mu * kappa, (1 - mu) * kappa


def beta_binomial_posterior(
    successes: int, trials: int, alpha: float, beta: float, confidence: float = 0.95
) -> Shrunk:
    """Posterior Beta(alpha + k, beta + n − k): mean and equal-tailed interval, as percentages."""
    k, n = _whole(successes, "successes"), _whole(trials, "trials")
    if k > n:
        raise ValueError(f"successes {k} exceed trials {n}")
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"prior alpha and beta must be positive, got {alpha}, {beta}")
    low_tail, high_tail = _tails(confidence)
    a, b = alpha + k, beta + n - k
    low, high = (
        float(q) for q in np.atleast_1d(distributions.beta.ppf([low_tail, high_tail], a, b))
    )
    return Shrunk(
        raw=100.0 * k / n if n else None,
        estimate=100.0 * a / (a + b),
        ci_low=100.0 * float(low),
        ci_high=100.0 * float(high),
        n=n,
    )


def beta_binomial(
    successes: Sequence[int], trials: Sequence[int], confidence: float = 0.95
) -> tuple[tuple[float, float], list[Shrunk]]:
    """Empirical-Bayes shares (0..100) for many groups, in input order, with the fitted prior.

    The prior Beta(alpha, beta) maximises the beta-binomial marginal likelihood (scipy L-BFGS-B
    on logit mean and log concentration, started at the method of moments). Groups with no
    trials get the prior mean and interval.
    """
    k, n = _binomial_counts(successes, trials)
    alpha, beta = _fit_beta(k, n)
    shrunk = [
        beta_binomial_posterior(int(ki), int(ni), alpha, beta, confidence)
        for ki, ni in zip(k, n, strict=True)
    ]
    return (alpha, beta), shrunk


def _nps_counts(counts: Sequence[tuple[int, int, int]]) -> np.ndarray:
    rows = []
    for position, row in enumerate(counts):
        if len(row) != 3:
            raise ValueError(
                f"group #{position} must be (promoters, passives, detractors), got {row!r}"
            )
        rows.append(
            [
                _whole(value, f"group #{position} {name}")
                for value, name in zip(row, ("promoters", "passives", "detractors"), strict=True)
            ]
        )
    array = np.array(rows, dtype=float).reshape(-1, 3)
    if np.count_nonzero(array.sum(axis=1)) < 2:
        raise ValueError("fitting a prior needs at least two groups with responses")
    return array


def dirichlet_multinomial_prior(
    counts: Sequence[tuple[int, int, int]],
) -> tuple[float, float, float]:
    """Maximum-likelihood Dirichlet prior (promoters, passives, detractors) across groups."""
    return _fit_dirichlet(_nps_counts(counts))


def _fit_dirichlet(x: np.ndarray) -> tuple[float, float, float]:
    x = x[x.sum(axis=1) > 0]
    n = x.sum(axis=1)
    shares = np.clip(x.sum(axis=0) / n.sum(), 1e-6, None)
    shares = shares / shares.sum()
    # Method-of-moments concentration from the promoter/detractor spreads, averaged.
    kappa = math.exp(
        np.mean([math.log(_moment_concentration(x[:, j], n, float(shares[j]))) for j in (0, 2)])
    )
    start = np.log(shares * kappa)
    low, high = math.log(MIN_CONCENTRATION / 3), math.log(MAX_CONCENTRATION)

    def negative_log_likelihood(theta: np.ndarray) -> tuple[float, np.ndarray]:
        alpha = np.exp(theta)
        total = alpha.sum()
        value = np.sum(special.gammaln(total) - special.gammaln(n + total)) + np.sum(
            special.gammaln(x + alpha) - special.gammaln(alpha)
        )
        common = np.sum(special.digamma(total) - special.digamma(n + total))
        grad = common + np.sum(special.digamma(x + alpha) - special.digamma(alpha), axis=0)
        return -float(value), -(grad * alpha)

    result = optimize.minimize(
        negative_log_likelihood,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(low, high)] * 3,
    )
    alpha = np.exp(result.x)
    return float(alpha[0]), float(alpha[1]), float(alpha[2])


def nps_posterior(
    promoters: int,
    passives: int,
    detractors: int,
    prior: tuple[float, float, float],
    confidence: float = 0.95,
    draws: int = DRAWS,
    seed: int = 0,
) -> Shrunk:
    """Posterior NPS (points) under Dirichlet(prior + counts).

    The mean is exact: 100·[(P + α_P) − (D + α_D)]/(n + Σα). The equal-tailed interval is the
    quantiles of p − d over ``draws`` Monte Carlo draws from the posterior with a fixed ``seed``
    (so results are reproducible; with 20,000 draws the bounds move by about 0.1 point between
    seeds).
    """
    counts = np.array(
        [
            _whole(promoters, "promoters"),
            _whole(passives, "passives"),
            _whole(detractors, "detractors"),
        ],
        dtype=float,
    )
    alpha = np.asarray(prior, dtype=float)
    if alpha.shape != (3,) or not np.all(alpha > 0):
        raise ValueError(f"prior must be three positive numbers, got {prior!r}")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 100:
        raise ValueError(f"draws must be a whole number >= 100, got {draws!r}")
    low_tail, high_tail = _tails(confidence)
    posterior = alpha + counts
    sample = np.random.default_rng(seed).dirichlet(posterior, size=draws)
    net = sample[:, 0] - sample[:, 2]
    low, high = np.quantile(net, [low_tail, high_tail])
    n = int(counts.sum())
    return Shrunk(
        raw=100.0 * float(counts[0] - counts[2]) / n if n else None,
        estimate=100.0 * float(posterior[0] - posterior[2]) / float(posterior.sum()),
        ci_low=100.0 * float(low),
        ci_high=100.0 * float(high),
        n=n,
    )


def nps_dirichlet(
    counts: Sequence[tuple[int, int, int]],
    confidence: float = 0.95,
    draws: int = DRAWS,
    seed: int = 0,
) -> tuple[tuple[float, float, float], list[Shrunk]]:
    """Empirical-Bayes NPS for many groups, each (promoters, passives, detractors).

    The Dirichlet prior maximises the Dirichlet-multinomial marginal likelihood (scipy L-BFGS-B
    on log alphas, started at the method of moments). Each group's estimate is its posterior
    mean NPS and its interval a Monte Carlo equal-tailed credible interval (see
    :func:`nps_posterior`), in input order.
    """
    x = _nps_counts(counts)
    prior = _fit_dirichlet(x)
    shrunk = [
        nps_posterior(int(p), int(m), int(d), prior, confidence, draws, seed + position)
        for position, (p, m, d) in enumerate(x)
    ]
    return prior, shrunk
