import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.metrics import ux
from opencx.analytics.stats.intervals import wilson

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
METRICS = {"task_success_rate"}


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in METRICS]


def _check_task_success(inputs, expected, tolerance):
    score = ux.task_success_rate(successes=inputs["successes"], attempts=inputs["attempts"])
    assert score.value == pytest.approx(expected, abs=tolerance)
    assert score.n == inputs["attempts"]


HANDLERS = {"task_success_rate": _check_task_success}


def test_every_case_metric_is_handled():
    assert {c["metric"] for c in _cases()} == set(HANDLERS)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["metric"])
def test_published_cases(case):
    HANDLERS[case["metric"]](case["inputs"], case["expected"], case["tolerance"])


def test_adjusted_wald_by_hand_for_four_of_five():
    # p' = (4 + 1.96²/2) / (5 + 1.96²); p' ± 1.96 √(p'(1 − p') / (5 + 1.96²))
    score = ux.task_success_rate(successes=4, attempts=5)
    assert score.value == 80.0
    assert score.ci_low == pytest.approx(35.96, abs=0.01)
    assert score.ci_high == pytest.approx(97.97, abs=0.01)


def test_adjusted_wald_is_clamped_and_wilson_is_available():
    perfect = ux.task_success_rate(successes=5, attempts=5)
    assert perfect.ci_high == 100.0 and perfect.ci_low < 100
    w = ux.task_success_rate(successes=4, attempts=5, interval="wilson")
    interval = wilson(4, 5)
    assert (w.ci_low, w.ci_high) == (
        pytest.approx(100 * interval.low),
        pytest.approx(100 * interval.high),
    )
    with pytest.raises(ValueError, match="interval"):
        ux.task_success_rate(successes=1, attempts=2, interval="exact")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), attempts=st.integers(1, 500))
def test_task_success_interval_bounds(data, attempts):
    successes = data.draw(st.integers(0, attempts))
    score = ux.task_success_rate(successes=successes, attempts=attempts)
    assert 0 <= score.ci_low <= score.value <= score.ci_high <= 100


def test_task_success_and_error_rate_reject_bad_counts():
    with pytest.raises(ValueError, match="successes=6 exceeds attempts=5"):
        ux.task_success_rate(successes=6, attempts=5)
    with pytest.raises(ValueError, match="opportunities"):
        ux.error_rate(errors=3, opportunities=2)
    assert ux.task_success_rate(successes=0, attempts=0).value is None


def test_error_rate_is_errors_per_opportunity():
    score = ux.error_rate(errors=3, opportunities=40)
    assert score.value == pytest.approx(7.5)
    assert score.n == 40


def test_time_on_task_geometric_mean_and_log_t_interval():
    times = [10.0, 20.0, 40.0, 80.0]
    score = ux.time_on_task(times)
    assert score.value == pytest.approx(math.sqrt(20 * 40))
    logs = [math.log(t) for t in times]
    mean = sum(logs) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / 3)
    t_crit = 3.182446305284263  # t(0.975, 3)
    assert score.ci_low == pytest.approx(math.exp(mean - t_crit * sd / 2))
    assert score.ci_high == pytest.approx(math.exp(mean + t_crit * sd / 2))


def test_time_on_task_edge_cases():
    assert ux.time_on_task([]).value is None
    single = ux.time_on_task([42.0])
    assert single.value == pytest.approx(42.0) and single.ci_low is None
    with pytest.raises(ValueError, match="time #1"):
        ux.time_on_task([3.0, 0.0])
    with pytest.raises(ValueError, match="time #2"):
        ux.time_on_task([3.0, 4.0, float("nan")])
    with pytest.raises(ValueError, match="time #0"):
        ux.time_on_task(["3"])  # type: ignore[list-item]


@settings(max_examples=50, deadline=None)
@given(
    times=st.lists(st.floats(0.1, 10_000), min_size=2, max_size=40),
    factor=st.floats(0.01, 100),
)
def test_time_on_task_properties(times, factor):
    score = ux.time_on_task(times)
    assert min(times) * (1 - 1e-9) <= score.value <= max(times) * (1 + 1e-9)
    assert score.value <= sum(times) / len(times) * (1 + 1e-9)  # AM–GM
    assert score.ci_low <= score.value <= score.ci_high
    scaled = ux.time_on_task([t * factor for t in times])  # unit change: seconds → minutes
    assert scaled.value == pytest.approx(score.value * factor, rel=1e-9)
    assert scaled.ci_high == pytest.approx(score.ci_high * factor, rel=1e-9)
