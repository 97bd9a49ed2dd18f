import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from opencx.analytics.stats.shrinkage import (
    beta_binomial,
    beta_binomial_posterior,
    beta_binomial_prior,
    dirichlet_multinomial_prior,
    nps_dirichlet,
    nps_posterior,
)

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"


def _cases(metric):
    return [c for c in json.loads(CASES.read_text()) if c["metric"] == metric]


def test_beta_binomial_cases_exist():
    assert _cases("beta_binomial_posterior_mean"), "no beta_binomial_posterior_mean case"


@pytest.mark.parametrize(
    "case", _cases("beta_binomial_posterior_mean"), ids=lambda c: c["source_url"]
)
def test_published_beta_binomial_posterior(case):
    inputs, expected, tol = case["inputs"], case["expected"], case["tolerance"]
    assert set(inputs) == {"prior_alpha", "prior_beta", "successes", "trials"}, inputs
    alpha, beta = inputs["prior_alpha"], inputs["prior_beta"]
    k, n = inputs["successes"], inputs["trials"]
    shrunk = beta_binomial_posterior(k, n, alpha, beta)
    assert shrunk.estimate / 100 == pytest.approx(expected["posterior_mean"], abs=tol)
    if "raw" in expected:
        assert shrunk.raw / 100 == pytest.approx(expected["raw"], abs=tol)
    if "prior_mean" in expected:
        empty = beta_binomial_posterior(0, 0, alpha, beta)
        assert empty.estimate / 100 == pytest.approx(expected["prior_mean"], abs=tol)
    if "posterior" in expected:
        a, b = expected["posterior"]
        low, high = stats.beta.ppf([0.025, 0.975], a, b)
        assert (shrunk.ci_low / 100, shrunk.ci_high / 100) == pytest.approx((low, high), abs=1e-9)
        assert shrunk.estimate / 100 == pytest.approx(a / (a + b), abs=1e-12)


def _simulated_shares(seed=1, groups=150):
    rng = np.random.default_rng(seed)
    trials = rng.integers(5, 300, size=groups)
    successes = rng.binomial(trials, rng.beta(27, 73, size=groups))
    return successes.tolist(), trials.tolist()


def test_beta_prior_is_the_maximum_likelihood_fit():
    successes, trials = _simulated_shares()
    alpha, beta = beta_binomial_prior(successes, trials)

    def nll(theta):
        a, b = np.exp(theta)
        return -stats.betabinom.logpmf(successes, trials, a, b).sum()

    brute = optimize.minimize(
        nll,
        np.log([1.0, 1.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
    )
    assert nll(np.log([alpha, beta])) <= brute.fun + 1e-6
    assert (alpha, beta) == pytest.approx(tuple(np.exp(brute.x)), rel=1e-3)
    # The simulation used Beta(27, 73): the fit recovers the mean well.
    assert alpha / (alpha + beta) == pytest.approx(0.27, abs=0.02)


def test_shrinkage_pulls_small_groups_more():
    successes = [5, 50, 1, 30, 20, 45, 2, 33]
    trials = [5, 100, 10, 100, 100, 100, 4, 100]
    (alpha, beta), shrunk = beta_binomial(successes, trials)
    prior_mean = 100 * alpha / (alpha + beta)
    five_of_five, fifty = shrunk[0], shrunk[1]
    assert five_of_five.raw == 100 and five_of_five.estimate < 100
    assert abs(five_of_five.estimate - five_of_five.raw) > abs(fifty.estimate - fifty.raw)
    for s in shrunk:
        assert min(s.raw, prior_mean) - 1e-9 <= s.estimate <= max(s.raw, prior_mean) + 1e-9
        assert 0 <= s.ci_low <= s.estimate <= s.ci_high <= 100


def test_group_without_trials_gets_the_prior():
    (alpha, beta), shrunk = beta_binomial([3, 40, 0], [10, 100, 0])
    assert shrunk[2].raw is None and shrunk[2].n == 0
    assert shrunk[2].estimate == pytest.approx(100 * alpha / (alpha + beta))


def test_no_extra_variation_means_complete_pooling():
    (alpha, beta), shrunk = beta_binomial([30] * 10, [100] * 10)
    assert alpha + beta > 1e5
    assert all(s.estimate == pytest.approx(30, abs=1e-3) for s in shrunk)


@pytest.mark.parametrize(
    ("successes", "trials", "message"),
    [
        ([1, 5], [2, 4], "group #1"),
        ([1, 2], [2], "groups"),
        ([1, -1], [2, 3], "successes #1"),
        ([1, 1.5], [2, 3], "successes #1"),
        ([1, True], [2, 3], "successes #1"),
        ([1], [2], "at least two"),
        ([1, 0], [2, 0], "at least two"),
    ],
)
def test_beta_binomial_rejects_bad_input(successes, trials, message):
    with pytest.raises(ValueError, match=message):
        beta_binomial(successes, trials)


def _simulated_nps(seed=2, groups=80):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 200, size=groups)
    shares = rng.dirichlet([20, 15, 10], size=groups)
    return [
        tuple(int(v) for v in rng.multinomial(n, p)) for n, p in zip(sizes, shares, strict=True)
    ]


def test_dirichlet_prior_is_the_maximum_likelihood_fit():
    counts = _simulated_nps()
    prior = np.array(dirichlet_multinomial_prior(counts))
    x = np.array(counts, dtype=float)

    def nll(theta):
        return -stats.dirichlet_multinomial.logpmf(x, np.exp(theta), x.sum(axis=1)).sum()

    brute = optimize.minimize(
        nll,
        np.zeros(3),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 5000},
    )
    assert nll(np.log(prior)) <= brute.fun + 1e-6
    assert prior == pytest.approx(np.exp(brute.x), rel=1e-3)


def test_nps_posterior_mean_and_interval():
    prior = (4.0, 3.0, 2.0)
    shrunk = nps_posterior(10, 5, 5, prior)
    assert shrunk.raw == pytest.approx(25.0)
    assert shrunk.estimate == pytest.approx(100 * (14 - 7) / 29)
    # Analytic check on the interval: p − d has variance
    # [a_p(A − a_p) + a_d(A − a_d) + 2 a_p a_d] / (A²(A + 1)) under Dirichlet(a).
    a_p, a_d, total = 14, 7, 29
    sd = 100 * np.sqrt(
        (a_p * (total - a_p) + a_d * (total - a_d) + 2 * a_p * a_d) / (total**2 * (total + 1))
    )
    assert shrunk.ci_high - shrunk.ci_low == pytest.approx(2 * 1.96 * sd, rel=0.05)
    assert nps_posterior(10, 5, 5, prior) == shrunk  # fixed seed: reproducible


def test_nps_dirichlet_shrinks_towards_the_overall_score():
    counts = [(9, 1, 0), (40, 30, 30), (50, 30, 20), (20, 40, 40), (0, 1, 2), (35, 35, 30)]
    prior, shrunk = nps_dirichlet(counts)
    prior_nps = 100 * (prior[0] - prior[2]) / sum(prior)
    for s in shrunk:
        assert -100 <= s.ci_low <= s.estimate <= s.ci_high <= 100
        assert min(s.raw, prior_nps) - 1e-9 <= s.estimate <= max(s.raw, prior_nps) + 1e-9
    assert shrunk[0].estimate < 90 and shrunk[4].estimate > -66


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([(1, 2)], "group #0"),
        ([(1, 2, -3), (1, 1, 1)], "group #0 detractors"),
        ([(1, 2, 3)], "at least two"),
    ],
)
def test_nps_dirichlet_rejects_bad_input(counts, message):
    with pytest.raises(ValueError, match=message):
        nps_dirichlet(counts)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.floats(0.1, 50), st.floats(0.1, 50))
def test_posterior_is_between_raw_and_prior(k, extra, alpha, beta):
    shrunk = beta_binomial_posterior(k, k + extra, alpha, beta)
    prior_mean = 100 * alpha / (alpha + beta)
    raw = shrunk.raw if shrunk.raw is not None else prior_mean
    assert min(raw, prior_mean) - 1e-9 <= shrunk.estimate <= max(raw, prior_mean) + 1e-9
    assert 0 <= shrunk.ci_low <= shrunk.estimate <= shrunk.ci_high <= 100
