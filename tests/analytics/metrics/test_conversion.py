import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.metrics import conversion

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
METRICS = {"conversion_rate", "ga4_bounce_rate"}
DENOMINATOR_KEYS = ("sessions", "users", "visitors", "impressions")


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in METRICS]


def _check_conversion(inputs, expected, tolerance):
    (per,) = [key for key in DENOMINATOR_KEYS if key in inputs]
    score = conversion.conversion_rate(
        conversions=inputs["conversions"], denominator=inputs[per], per=per
    )
    assert score.value == pytest.approx(expected, abs=tolerance)


def _check_ga4(inputs, expected, tolerance):
    counts = {"sessions": inputs["sessions"], "engaged_sessions": inputs["engaged_sessions"]}
    bounce = conversion.ga4_bounce_rate(**counts)
    engagement = conversion.ga4_engagement_rate(**counts)
    assert bounce.value == pytest.approx(expected["bounce_rate_pct"], abs=tolerance)
    assert engagement.value == pytest.approx(expected["engagement_rate_pct"], abs=tolerance)


HANDLERS = {"conversion_rate": _check_conversion, "ga4_bounce_rate": _check_ga4}


def test_every_case_metric_is_handled():
    assert {c["metric"] for c in _cases()} == set(HANDLERS)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["metric"])
def test_published_cases(case):
    HANDLERS[case["metric"]](case["inputs"], case["expected"], case["tolerance"])


def test_conversion_needs_a_named_denominator_and_converting_units():
    with pytest.raises(ValueError, match="per must be one of"):
        conversion.conversion_rate(conversions=1, denominator=10, per="clicks")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count converting users"):
        conversion.conversion_rate(conversions=11, denominator=10, per="users")
    with pytest.raises(TypeError):
        conversion.conversion_rate(conversions=1, denominator=10)  # type: ignore[call-arg]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), sessions=st.integers(1, 100_000))
def test_ga4_bounce_and_engagement_are_complements(data, sessions):
    engaged = data.draw(st.integers(0, sessions))
    bounce = conversion.ga4_bounce_rate(sessions=sessions, engaged_sessions=engaged)
    engagement = conversion.ga4_engagement_rate(sessions=sessions, engaged_sessions=engaged)
    assert bounce.value + engagement.value == pytest.approx(100)
    assert bounce.ci_low == pytest.approx(100 - engagement.ci_high)
    assert bounce.ci_high == pytest.approx(100 - engagement.ci_low)
    assert 0 <= bounce.ci_low <= bounce.value <= bounce.ci_high <= 100


def _sessions():
    return pd.DataFrame(
        {
            "site": ["x", "x", "x", "y", "y", "y"],
            "duration_seconds": [120.0, 10.0, 3.0, 0.0, 11.0, 5.0],
            "key_events": [0, 0, 1, 0, 0, 0],
            "page_views": [1, 1, 1, 1, 1, 3],
            "interaction_events": [0, 0, 0, 0, 2, 0],
        }
    )


def test_ga4_session_rule_and_the_ua_difference():
    sessions = _sessions()
    # Engaged: 120 s read, key event, 11 s, 3 page views; 10 s exactly is not "longer than 10 s".
    ga4 = conversion.ga4_bounce_rate_from_sessions(sessions)
    assert (ga4.value, ga4.n) == (pytest.approx(200 / 6), 6)
    # UA: single page and no interaction: rows 0, 1, 2, 3 (the long read bounces in UA).
    ua = conversion.ua_bounce_rate_from_sessions(sessions)
    assert ua.value == pytest.approx(400 / 6)
    assert conversion.ua_bounce_rate_from_sessions(
        sessions, interaction_events=None
    ).value == pytest.approx(500 / 6)
    # With a 200 s timer only the key event and the 3-page session stay engaged.
    stricter = conversion.ga4_bounce_rate_from_sessions(sessions, threshold_seconds=200)
    assert stricter.value == pytest.approx(400 / 6)


def test_grouped_bounce_rates():
    table = conversion.ga4_bounce_rate_from_sessions(_sessions(), by=["site"])
    assert list(table.columns) == ["site", "value", "n", "ci_low", "ci_high"]
    assert table.set_index("site")["value"].to_dict() == pytest.approx({"x": 100 / 3, "y": 100 / 3})
    ua = conversion.ua_bounce_rate_from_sessions(_sessions(), by=["site"])
    assert ua.set_index("site")["n"].to_dict() == {"x": 3, "y": 3}


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("duration_seconds", -1.0, "'duration_seconds' row 2"),
        ("page_views", 1.5, "'page_views' row 2"),
        ("key_events", None, "'key_events' row 2"),
    ],
)
def test_session_tables_reject_bad_values_with_their_row(column, value, match):
    sessions = _sessions()
    sessions[column] = sessions[column].astype(float)
    sessions.loc[2, column] = value
    with pytest.raises(ValueError, match=match):
        conversion.ga4_bounce_rate_from_sessions(sessions)


def test_ua_rejects_sessions_without_a_page_view():
    sessions = _sessions()
    sessions.loc[1, "page_views"] = 0
    with pytest.raises(ValueError, match="row 1"):
        conversion.ua_bounce_rate_from_sessions(sessions)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 60), st.integers(0, 2), st.integers(0, 4)), min_size=1, max_size=50
    )
)
def test_ga4_session_form_agrees_with_a_naive_rule(rows):
    frame = pd.DataFrame(rows, columns=["duration_seconds", "key_events", "page_views"])
    naive = sum(1 for d, k, p in rows if not (d > 10 or k >= 1 or p >= 2))
    score = conversion.ga4_bounce_rate_from_sessions(frame)
    assert score.value == pytest.approx(100 * naive / len(rows))
    counted = conversion.ga4_bounce_rate(sessions=len(rows), engaged_sessions=len(rows) - naive)
    assert score == counted
