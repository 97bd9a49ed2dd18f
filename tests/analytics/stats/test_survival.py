import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.stats.survival import kaplan_meier, median_survival, survival_at

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"


def _cases(metric):
    return [c for c in json.loads(CASES.read_text()) if c["metric"] == metric]


def test_kaplan_meier_cases_exist():
    assert _cases("kaplan_meier_survival"), "no kaplan_meier_survival case in metric_cases.json"


@pytest.mark.parametrize("case", _cases("kaplan_meier_survival"), ids=lambda c: c["source_url"])
def test_published_kaplan_meier(case):
    inputs = case["inputs"]
    assert set(inputs) <= {"durations", "event_observed", "timeline", "entry"}, inputs
    table = kaplan_meier(inputs["durations"], inputs["event_observed"], entry=inputs.get("entry"))
    timeline = inputs.get("timeline", table["time"].tolist())
    assert len(timeline) == len(case["expected"])
    got = [survival_at(table, t) for t in timeline]
    assert got == pytest.approx(case["expected"], abs=case["tolerance"])


# Freireich et al. (1963) 6-MP arm, the textbook example (Klein & Moeschberger section 4.2;
# Kleinbaum & Klein ch. 2). Survival, Greenwood SE and R's survfit(conf.type = "log-log") bounds.
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
SIX_MP_EXPECTED = {  # time: (survival, greenwood se, low, high)
    6: (0.857, 0.0764, 0.620, 0.952),
    7: (0.807, 0.0869, 0.563, 0.923),
    10: (0.753, 0.0963, 0.503, 0.889),
    13: (0.690, 0.1068, 0.432, 0.849),
    16: (0.627, 0.1141, 0.368, 0.805),
    22: (0.538, 0.1282, 0.268, 0.747),
    23: (0.448, 0.1346, 0.188, 0.680),
}


def test_six_mp_textbook_example():
    table = kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENTS).set_index("time")
    assert table.loc[6, ["at_risk", "events", "censored"]].tolist() == [21, 3, 1]
    assert table.loc[35, ["at_risk", "events", "censored"]].tolist() == [1, 0, 1]
    greenwood = 0.0
    for time, (survival, se, low, high) in SIX_MP_EXPECTED.items():
        row = table.loc[time]
        greenwood += row["events"] / (row["at_risk"] * (row["at_risk"] - row["events"]))
        assert row["survival"] == pytest.approx(survival, abs=5e-4)
        assert row["survival"] * math.sqrt(greenwood) == pytest.approx(se, abs=5e-5)
        assert row["ci_low"] == pytest.approx(low, abs=5e-4)
        assert row["ci_high"] == pytest.approx(high, abs=5e-4)
    assert median_survival(table.reset_index()) == 23


def test_table_shape_and_start_row():
    table = kaplan_meier([3, 1, 2], [1, 0, 1])
    assert list(table.columns) == [
        "time",
        "at_risk",
        "events",
        "censored",
        "survival",
        "ci_low",
        "ci_high",
    ]
    assert table.iloc[0].tolist() == [0.0, 3, 0, 0, 1.0, 1.0, 1.0]
    assert table["survival"].tolist() == pytest.approx([1, 1, 0.5, 0])
    assert np.isnan(table["ci_low"].iloc[-1])  # undefined once the curve reaches 0


def test_median_and_reading_the_curve():
    table = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert median_survival(table) == 2
    assert survival_at(table, 0.5) == 1.0
    assert survival_at(table, 2) == 0.5
    assert survival_at(table, 2.9) == 0.5
    assert median_survival(kaplan_meier([1, 5, 6], [1, 0, 0])) is None


def test_left_truncation_keeps_late_entrants_out_of_early_risk_sets():
    # Customer 1 is first seen at tenure 6, so it is not at risk at 5.
    table = kaplan_meier([5, 8, 10], [1, 1, 1], entry=[0, 6, 0]).set_index("time")
    assert table.loc[5, "at_risk"] == 2 and table.loc[8, "at_risk"] == 2
    assert table["survival"].tolist() == pytest.approx([1, 0.5, 0.25, 0])


@pytest.mark.parametrize(
    ("durations", "observed", "message"),
    [
        ([1, -2], [1, 1], "durations #1"),
        ([1, float("nan")], [1, 1], "durations #1"),
        ([1, "2"], [1, 1], "durations #1"),
        ([1, 2], [1, 2], "observed #1"),
        ([1, 2], [1], "observed has 1"),
        ([], [], "empty"),
    ],
)
def test_invalid_input_raises(durations, observed, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(durations, observed)


def test_entry_after_duration_raises():
    with pytest.raises(ValueError, match="entry #0"):
        kaplan_meier([2], [1], entry=[3])


def _naive_survival(durations, observed, t):
    s = 1.0
    for time in sorted({d for d, e in zip(durations, observed, strict=True) if e and d <= t}):
        at_risk = sum(d >= time for d in durations)
        deaths = sum(d == time and e for d, e in zip(durations, observed, strict=True))
        s *= 1 - deaths / at_risk
    return s


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60),
    st.floats(0.5, 0.99),
)
def test_properties(rows, confidence):
    durations, observed = [r[0] for r in rows], [r[1] for r in rows]
    table = kaplan_meier(durations, observed, confidence)
    survival = table["survival"].to_numpy()
    assert np.all(np.diff(survival) <= 1e-12) and np.all((survival >= 0) & (survival <= 1))
    assert table["events"].sum() == sum(observed)
    assert table["censored"].sum() == len(rows) - sum(observed)
    defined = table.dropna()
    assert np.all(defined["ci_low"] <= defined["survival"] + 1e-12)
    assert np.all(defined["survival"] <= defined["ci_high"] + 1e-12)
    for t in {0, 5, 15, 30}:
        assert survival_at(table, t) == pytest.approx(_naive_survival(durations, observed, t))
