"""First-response and resolution times: published cases, exclusions, censoring, summaries."""

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.calendar import DAY_NAMES, BusinessCalendar
from opencx.analytics.metrics.response_times import (
    average_first_response_time,
    conversation_durations,
    first_response_times,
    resolution_times,
    summarize,
    summarize_durations,
)

CASES = Path(__file__).resolve().parents[4] / "shared" / "data" / "metric_cases.json"
NAMES = ("first_response_time", "first_response_time_business_hours", "average_first_response_time")
ZONE = "Europe/Berlin"
MONDAY = dt.date(2024, 3, 4)
UNITS = {"hours": 3600, "minutes": 60, "seconds": 1}


def _cases():
    return [c for c in json.loads(CASES.read_text()) if c["metric"] in NAMES]


def test_every_case_name_is_present():
    assert {c["metric"] for c in _cases()} == set(NAMES)


def _moment(text, base):
    """'18:00', '08:00 next day', 'Mon 10:00', 'Tue 09:15' → a moment in ZONE."""
    found = re.fullmatch(
        r"(?:([A-Za-z]{3})[a-z]*\s+)?(\d{1,2}):(\d{2})(\s+next day)?", text.strip()
    )
    if not found:
        pytest.fail(f"unhandled time {text!r}")
    day = base
    if found[1]:
        day = MONDAY + dt.timedelta(days=DAY_NAMES.index(found[1].lower()))
    if found[4]:
        day = base + dt.timedelta(days=1)
    return pd.Timestamp(dt.datetime.combine(day, dt.time(int(found[2]), int(found[3]))), tz=ZONE)


def _events(created, reply):
    return pd.DataFrame(
        {
            "conversation_id": [1, 1],
            "timestamp": [created, reply],
            "kind": ["customer_message", "agent_reply"],
        }
    )


def _calendar(inputs):
    if "schedule_start" in inputs:
        hours = f"{inputs['schedule_start']}-{inputs.get('schedule_end', '17:00')}"
        return BusinessCalendar.weekly(ZONE, {inputs.get("schedule_days", "daily"): hours})
    schedule = inputs.get("schedule", "none")
    if not str(schedule).startswith("none"):
        pytest.fail(f"unhandled schedule {schedule!r}")
    return None


def _expected_seconds(expected):
    (unit, value), *rest = expected.items()
    assert not rest and unit in UNITS, f"unhandled expected {expected}"
    return value * UNITS[unit], UNITS[unit]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['metric']}:{c['source_url'][:50]}")
def test_published_case(case):
    inputs, expected, tolerance = case["inputs"], case["expected"], max(case["tolerance"], 1e-9)
    if case["metric"] == "average_first_response_time":
        totals = [k for k in inputs if k.startswith("total_")]
        assert len(totals) == 1 and "tickets" in inputs, f"unhandled inputs {sorted(inputs)}"
        unit = totals[0].split("_")[1]
        assert expected == pytest.approx(
            {unit: average_first_response_time(inputs[totals[0]], inputs["tickets"])}, abs=tolerance
        )
        return
    created = _moment(inputs["created"], MONDAY)
    reply = _moment(inputs["first_agent_reply"], created.date())
    calendar = _calendar(inputs)
    result = first_response_times(_events(created, reply), calendar=calendar)
    column = "business_hours" if case["metric"].endswith("business_hours") else "calendar_hours"
    assert (calendar is not None) == (column == "business_hours")
    seconds, unit = _expected_seconds(expected)
    assert result[column].iloc[0] * 3600 / unit == pytest.approx(seconds / unit, abs=tolerance)


def ts(text):
    return pd.Timestamp(text, tz=ZONE)


EVENTS = pd.DataFrame(
    [
        ("a", ts("2024-03-04 18:00"), "customer_message"),
        ("a", ts("2024-03-04 18:00"), "bot"),
        ("a", ts("2024-03-04 18:01"), "auto_reply"),
        ("a", ts("2024-03-04 18:05"), "internal_note"),
        ("a", ts("2024-03-05 08:00"), "agent_reply"),
        ("a", ts("2024-03-05 09:00"), "resolved"),
        ("a", ts("2024-03-05 10:00"), "customer_message"),  # reopened
        ("a", ts("2024-03-05 12:00"), "resolved"),
        ("b", ts("2024-03-05 10:00"), "customer_message"),
        ("b", ts("2024-03-05 10:05"), "bot"),
        ("c", ts("2024-03-04 09:00"), "created"),
        ("c", ts("2024-03-04 09:00"), "agent_reply"),  # an agent opened it
        ("c", ts("2024-03-04 11:00"), "customer_message"),
        ("c", ts("2024-03-04 12:30"), "agent_reply"),
        ("c", ts("2024-03-04 13:00"), "resolved"),
        ("c", ts("2024-03-04 14:00"), "customer_message"),  # reopened, still waiting
        ("d", ts("2024-03-04 10:00"), "agent_reply"),  # outbound only: no request
    ],
    columns=["conversation_id", "timestamp", "kind"],
)
AS_OF = ts("2024-03-06 10:00")
SHOP = BusinessCalendar.weekly(ZONE, {"daily": "07:00-17:00"})


def _by_id(frame):
    return frame.set_index("conversation_id")


def test_bots_auto_replies_and_notes_do_not_stop_the_clock():
    result = _by_id(first_response_times(EVENTS, calendar=SHOP, as_of=AS_OF))
    assert result.loc["a", "calendar_hours"] == 14
    assert result.loc["a", "business_hours"] == 1
    assert result.loc["c", "calendar_hours"] == 1.5


def test_unanswered_requests_are_censored_not_zero_or_dropped():
    result = _by_id(first_response_times(EVENTS, calendar=SHOP, as_of=AS_OF))
    assert result.loc["b", "status"] == "waiting"
    assert not result.loc["b", "observed"]
    assert result.loc["b", "calendar_hours"] == 24  # waited until as_of
    assert result.loc["b", "business_hours"] == 7 + 3
    assert result.loc["d", "status"] == "no_start"
    assert np.isnan(result.loc["d", "calendar_hours"])


def test_start_at_creation_skips_the_agents_opening_message():
    result = _by_id(first_response_times(EVENTS, start="created", as_of=AS_OF))
    assert result.loc["c", "calendar_hours"] == 3.5  # 09:00 created → 12:30, not 09:00
    assert result.loc["a", "status"] == "no_start"  # no created event
    kept = _by_id(
        first_response_times(EVENTS, start="created", skip_agent_opening=False, as_of=AS_OF)
    )
    assert kept.loc["c", "calendar_hours"] == 0
    first = _by_id(first_response_times(EVENTS, start="first_event", as_of=AS_OF))
    assert first.loc["d", "status"] == "waiting"  # the opening reply is not an answer


def test_first_and_full_resolution():
    first = _by_id(resolution_times(EVENTS, as_of=AS_OF))
    assert first.loc["a", "calendar_hours"] == 15
    assert first.loc["c", "calendar_hours"] == 2
    full = _by_id(resolution_times(EVENTS, full=True, as_of=AS_OF))
    assert full.loc["a", "calendar_hours"] == 18  # the latest solve after the reopening
    assert full.loc["c", "status"] == "waiting"  # reopened after the solve
    assert full.loc["c", "calendar_hours"] == 47  # from 11:00 Mon to 10:00 Wed (as_of)


def test_as_of_defaults_to_the_latest_event_and_may_not_precede_events():
    result = _by_id(first_response_times(EVENTS))
    assert result.loc["b", "calendar_hours"] == pytest.approx(2)  # until 12:00 on the 5th
    with pytest.raises(ValueError, match="precedes"):
        first_response_times(EVENTS, as_of=ts("2024-03-05 09:00"))
    with pytest.raises(ValueError, match="no time zone"):
        first_response_times(EVENTS, as_of=dt.datetime(2024, 3, 7))


def test_bad_event_tables_are_rejected():
    with pytest.raises(ValueError, match="missing column"):
        first_response_times(EVENTS.drop(columns="kind"))
    wrong = EVENTS.copy()
    wrong.loc[3, "kind"] = "email"
    with pytest.raises(ValueError, match="row 3: unknown event kind 'email'"):
        first_response_times(wrong)
    naive = EVENTS.assign(timestamp=EVENTS["timestamp"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="time-zone-aware"):
        first_response_times(naive)
    with pytest.raises(ValueError, match="start must be"):
        conversation_durations(EVENTS, start="opened")
    with pytest.raises(ValueError, match="end must be"):
        conversation_durations(EVENTS, end="closed")


def test_column_names_are_configurable():
    renamed = EVENTS.rename(columns={"conversation_id": "ticket", "timestamp": "at", "kind": "k"})
    result = first_response_times(
        renamed, conversation_column="ticket", time_column="at", kind_column="k", as_of=AS_OF
    )
    assert result.set_index("ticket").loc["a", "calendar_hours"] == 14


def test_summary_reports_censoring_and_uses_kaplan_meier():
    per = first_response_times(EVENTS, calendar=SHOP, as_of=AS_OF)
    summary = summarize(per, "calendar_hours")
    assert (summary.n, summary.answered, summary.censored) == (3, 2, 1)
    assert summary.mean.value == pytest.approx((14 + 1.5) / 2)
    assert summary.mean.n == 2
    assert "answered" in summary.note and "censored" in summary.note
    # KM: 1.5 (S=2/3), 14 (S=1/3); 24 censored → median 14, p90 never reached.
    assert summary.median.value == 14
    assert summary.p90.value is None
    assert summarize(per, "business_hours").unit == "business hours"


def test_censored_requests_raise_the_median_compared_with_dropping_them():
    durations = [1, 2, 3, 10, 10, 10]
    observed = [True, True, True, False, False, False]
    honest = summarize_durations(durations, observed)
    dropped = summarize_durations(durations[:3], observed[:3])
    as_zero = summarize_durations([1, 2, 3, 0, 0, 0], [True] * 6)
    assert honest.median.value == 3 > dropped.median.value == 2 > as_zero.median.value
    assert honest.median.ci_low <= honest.median.value


def test_summary_without_censoring_matches_plain_statistics():
    durations = [5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    summary = summarize_durations(durations, [True] * 10)
    assert summary.censored == 0
    assert summary.mean.value == pytest.approx(5.5)
    assert summary.median.value == 5  # first t with S(t) <= 0.5
    assert summary.p90.value == 9
    assert summary.median.ci_low <= 5 <= summary.median.ci_high


def test_summary_input_checks():
    with pytest.raises(ValueError, match="observed #1"):
        summarize_durations([1, 2], [True, 1])
    with pytest.raises(ValueError, match="2 durations but 1"):
        summarize_durations([1, 2], [True])
    assert summarize_durations([], []).median.value is None


@pytest.mark.parametrize(("total", "requests"), [(10, 0), (10, -1), (10, 2.5), (-1, 3)])
def test_average_rejects_nonsense(total, requests):
    with pytest.raises(ValueError):
        average_first_response_time(total, requests)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 600), st.one_of(st.none(), st.integers(0, 600))),
        min_size=1,
        max_size=12,
    )
)
def test_per_conversation_durations_agree_with_a_naive_computation(rows):
    start = ts("2024-03-04 08:00")
    events, expected = [], {}
    for index, (arrive, reply) in enumerate(rows):
        events.append((index, start + pd.Timedelta(minutes=arrive), "customer_message"))
        events.append((index, start + pd.Timedelta(minutes=arrive), "bot"))
        if reply is not None:
            events.append((index, start + pd.Timedelta(minutes=arrive + reply), "agent_reply"))
        expected[index] = (reply, reply is not None)
    frame = pd.DataFrame(events, columns=["conversation_id", "timestamp", "kind"])
    as_of = start + pd.Timedelta(minutes=1300)
    result = first_response_times(frame, as_of=as_of, calendar=BusinessCalendar.always(ZONE))
    for row in result.itertuples():
        reply, answered = expected[row.conversation_id]
        arrive = rows[row.conversation_id][0]
        minutes = reply if answered else 1300 - arrive
        assert row.observed == answered
        assert row.calendar_hours * 60 == pytest.approx(minutes)
        assert row.business_hours == pytest.approx(row.calendar_hours)
    summary = summarize(result)
    assert summary.censored == sum(r is None for _, r in rows)
    if summary.median.value is not None:
        answered_times = sorted(r / 60 for _, r in rows if r is not None)
        assert summary.median.value >= answered_times[0]
