import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from opencx.analytics.stats.drivers import key_drivers, relative_weights, shapley_values

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"


def _cases(metric):
    return [c for c in json.loads(CASES.read_text()) if c["metric"] == metric]


def _split(case):
    inputs = case["inputs"]
    assert set(inputs) == {"R", "y_col", "x_cols"}, inputs
    matrix = np.array(inputs["R"])
    y, x = inputs["y_col"] - 1, [i - 1 for i in inputs["x_cols"]]  # 1-based, as in R
    return matrix, y, x


def test_johnson_cases_exist():
    assert _cases("johnson_relative_weights"), "no johnson_relative_weights case"


@pytest.mark.parametrize("case", _cases("johnson_relative_weights"), ids=lambda c: c["source_url"])
def test_published_johnson_weights(case):
    matrix, y, x = _split(case)
    weights = relative_weights(matrix[np.ix_(x, x)], matrix[x, y])
    assert weights == pytest.approx(case["expected"]["eps"], abs=case["tolerance"])
    r2 = matrix[x, y] @ np.linalg.solve(matrix[np.ix_(x, x)], matrix[x, y])
    assert weights.sum() == pytest.approx(r2, abs=1e-12)
    assert weights.sum() == pytest.approx(case["expected"]["sum_equals_R2"], abs=case["tolerance"])


def _data_with_correlation(matrix, n=400, seed=5):
    """Rows whose sample correlation matrix is exactly ``matrix``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, len(matrix)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return z @ np.linalg.cholesky(matrix).T * 2.0 + 10.0


@pytest.mark.parametrize("case", _cases("johnson_relative_weights"), ids=lambda c: c["source_url"])
def test_key_drivers_reproduces_the_published_johnson_example_from_rows(case):
    matrix, y, x = _split(case)
    rows = _data_with_correlation(matrix)
    frame = pd.DataFrame(rows, columns=[f"c{i + 1}" for i in range(len(matrix))])
    names = [f"c{i + 1}" for i in x]
    result = key_drivers(frame, f"c{y + 1}", names, method="johnson", bootstrap=50)
    by_driver = result.set_index("driver")["importance"]
    assert [by_driver[name] for name in names] == pytest.approx(case["expected"]["eps"], abs=1e-7)
    assert result["share"].sum() == pytest.approx(1.0)
    assert result["importance"].is_monotonic_decreasing
    assert (result["ci_low"] <= result["importance"] + 1e-12).all()
    assert (result["importance"] <= result["ci_high"] + 1e-12).all()


def _ols_r2(x, y):
    if x.shape[1] == 0:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)


def test_shapley_equals_average_over_all_orderings_of_ols_fits():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(120, 4))
    x[:, 1] += 0.8 * x[:, 0]
    y = x @ np.array([1.0, 0.5, -0.7, 0.0]) + rng.normal(size=120)
    expected = np.zeros(4)
    orders = list(itertools.permutations(range(4)))
    for order in orders:
        for position, j in enumerate(order):
            before = list(order[:position])
            expected[j] += _ols_r2(x[:, [*before, j]], y) - _ols_r2(x[:, before], y)
    expected /= len(orders)
    matrix = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    assert shapley_values(matrix[:4, :4], matrix[:4, 4]) == pytest.approx(expected, abs=1e-10)
    frame = pd.DataFrame(x, columns=list("abcd")).assign(nps=y)
    result = key_drivers(frame, "nps", list("abcd"), bootstrap=0).set_index("driver")
    assert result.loc[list("abcd"), "importance"].to_numpy() == pytest.approx(expected, abs=1e-10)
    assert result["ci_low"].isna().all()


def test_uncorrelated_drivers_get_their_r_squared_by_every_method():
    r_xx = np.eye(3)
    r_xy = np.array([0.5, 0.3, -0.2])
    assert shapley_values(r_xx, r_xy) == pytest.approx(r_xy**2)
    assert relative_weights(r_xx, r_xy) == pytest.approx(r_xy**2)


def test_correlation_method_uses_fisher_z():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    frame["y"] = frame["a"] - 0.3 * frame["b"] + rng.normal(size=60)
    result = key_drivers(frame, "y", ["a", "b"], method="correlation").set_index("driver")
    for name in ("a", "b"):
        reference = stats.pearsonr(frame[name], frame["y"])
        low, high = reference.confidence_interval(0.95)
        assert result.loc[name, "r"] == pytest.approx(reference.statistic)
        assert result.loc[name, "importance"] == pytest.approx(reference.statistic**2)
        if low > 0:
            assert (result.loc[name, "ci_low"], result.loc[name, "ci_high"]) == pytest.approx(
                (low**2, high**2)
            )
        elif high < 0:
            assert (result.loc[name, "ci_low"], result.loc[name, "ci_high"]) == pytest.approx(
                (high**2, low**2)
            )
        else:
            assert result.loc[name, "ci_low"] == 0


def test_missing_rows_are_dropped_and_counted():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(50, 3)), columns=["a", "b", "y"])
    frame.loc[[1, 7], "a"] = np.nan
    frame.loc[7, "y"] = np.nan
    frame.loc[9, "y"] = None
    result = key_drivers(frame, "y", ["a", "b"], method="johnson", bootstrap=20)
    assert result.attrs["dropped_rows"] == 3 and result.attrs["n"] == 47
    assert list(result.columns[:5]) == ["driver", "importance", "share", "ci_low", "ci_high"]


def test_bootstrap_is_reproducible_with_a_seed():
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(rng.normal(size=(80, 4)), columns=["a", "b", "c", "y"])
    frame["y"] += frame["a"]
    first = key_drivers(frame, "y", ["a", "b", "c"], bootstrap=30, seed=1)
    again = key_drivers(frame, "y", ["a", "b", "c"], bootstrap=30, seed=1)
    other = key_drivers(frame, "y", ["a", "b", "c"], bootstrap=30, seed=2)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ci_low"], other["ci_low"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "missing"}, "'missing'"),
        ({"drivers": ["a", "text"]}, "'text'"),
        ({"drivers": ["a", "a"]}, "twice"),
        ({"drivers": ["a", "y"]}, "also listed"),
        ({"drivers": ["a", "flat"]}, "no variance"),
        ({"drivers": ["a", "copy"]}, "collinear"),
        ({"method": "beta"}, "method"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"drivers": []}, "empty"),
    ],
)
def test_invalid_input_raises(kwargs, message):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "y"])
    frame["text"] = "x"
    frame["flat"] = 1.0
    frame["copy"] = frame["a"] * 2
    arguments = {"outcome": "y", "drivers": ["a", "b"], "bootstrap": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        key_drivers(frame, **arguments)


def test_too_many_drivers_for_exact_shapley():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 14)))
    frame.columns = [f"d{i}" for i in range(14)]
    with pytest.raises(ValueError, match="johnson"):
        key_drivers(frame, "d13", [f"d{i}" for i in range(13)], bootstrap=0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5))
def test_shapley_and_johnson_decompose_r_squared(seed, k):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(k + 1, k + 1))
    matrix = np.corrcoef(rng.normal(size=(200, k + 1)) @ mixing, rowvar=False)
    r_xx, r_xy = matrix[:k, :k], matrix[:k, k]
    r2 = r_xy @ np.linalg.solve(r_xx, r_xy)
    for values in (shapley_values(r_xx, r_xy), relative_weights(r_xx, r_xy)):
        assert values.sum() == pytest.approx(r2, abs=1e-9)
        assert np.all(values >= -1e-12)
    # Relabelling the drivers relabels their importances.
    order = rng.permutation(k)
    shuffled = shapley_values(r_xx[np.ix_(order, order)], r_xy[order])
    assert shuffled == pytest.approx(shapley_values(r_xx, r_xy)[order], abs=1e-10)
    johnson = relative_weights(r_xx[np.ix_(order, order)], r_xy[order])
    assert johnson == pytest.approx(relative_weights(r_xx, r_xy)[order], abs=1e-10)
