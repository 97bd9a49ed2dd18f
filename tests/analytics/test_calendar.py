"""Business-hours arithmetic: schedule, holidays, time zones, daylight saving."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")


def at(day, hour, minute=0, zone=BERLIN):
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=zone)  # 2024-03-04 is a Monday


OFFICE = BusinessCalendar.weekly(
    "Europe/Berlin",
    {"weekdays": ["09:00-12:00", "13:00-17:00"], "sat": "10:00-14:00"},
    holidays=[dt.date(2024, 3, 6)],
)


def test_a_night_request_starts_counting_when_the_shop_opens():
    assert OFFICE.business_hours(at(4, 20), at(5, 9, 30)) == 0.5


def test_lunch_break_and_evening_do_not_count():
    assert OFFICE.business_hours(at(4, 11), at(4, 14)) == 2
    assert OFFICE.business_hours(at(4, 16), at(5, 10)) == 2


def test_holidays_and_sundays_are_closed():
    assert OFFICE.business_hours(at(5, 17), at(7, 9)) == 0  # Wednesday 6th is a holiday
    assert OFFICE.business_hours(at(9, 13), at(11, 10)) == 2  # Sat 13–14, Sun closed, Mon 9–10


def test_instants_in_other_zones_are_converted():
    utc = ZoneInfo("UTC")
    # 08:00 UTC is 09:00 in Berlin (CET, UTC+1 in early March)
    assert OFFICE.business_hours(at(4, 7, zone=utc), at(4, 8, zone=utc)) == 0
    assert OFFICE.business_hours(at(4, 8, zone=utc), at(4, 9, zone=utc)) == 1


def test_daylight_saving_counts_real_elapsed_time():
    clock = BusinessCalendar.weekly("Europe/Berlin", {"daily": "00:00-24:00"})
    assert clock.business_hours(at(30, 12), at(31, 12)) == 23  # clocks go forward on 31 March
    always = BusinessCalendar.always("Europe/Berlin")
    assert always.business_hours(at(30, 12), at(31, 12)) == 23


def test_is_open():
    assert OFFICE.is_open(at(4, 9))
    assert not OFFICE.is_open(at(4, 12, 30))
    assert not OFFICE.is_open(at(6, 10))  # holiday
    assert not OFFICE.is_open(at(4, 17))  # closing time is exclusive


def test_time_pairs_and_midnight():
    late = BusinessCalendar.weekly("UTC", {0: (dt.time(22), dt.time(0))})
    utc = ZoneInfo("UTC")
    assert late.business_hours(at(4, 21, zone=utc), at(5, 3, zone=utc)) == 2


@pytest.mark.parametrize(
    ("hours", "match"),
    [
        ({"mon": "17:00-09:00"}, "overnight"),
        ({"mon": "9-17"}, "HH:MM"),
        ({"mon": "09:00-25:00"}, "time of day"),
        ({"funday": "09:00-17:00"}, "not a weekday"),
        ({7: "09:00-17:00"}, "0 \\(Monday\\)"),
        ({"weekdays": "09:00-17:00", "mon": "10:00-11:00"}, "more than once"),
        ({"mon": ["09:00-12:00", "11:00-13:00"]}, "overlap"),
    ],
)
def test_bad_schedules_are_rejected(hours, match):
    with pytest.raises(ValueError, match=match):
        BusinessCalendar.weekly("UTC", hours)


def test_bad_zone_holiday_and_moments_are_rejected():
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar.weekly("Mars/Olympus", {"mon": "09:00-17:00"})
    with pytest.raises(ValueError, match="holidays"):
        BusinessCalendar.weekly("UTC", {}, holidays=[dt.datetime(2024, 1, 1)])
    with pytest.raises(ValueError, match="no time zone"):
        OFFICE.business_hours(dt.datetime(2024, 3, 4, 9), at(4, 10))
    with pytest.raises(ValueError, match="before start"):
        OFFICE.business_hours(at(4, 10), at(4, 9))


moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2024, 12, 31),
    timezones=st.just(BERLIN),
)


@settings(max_examples=40, deadline=None)
@given(moments, moments, moments)
def test_business_time_is_bounded_and_additive(a, b, c):
    first, middle, last = sorted([a, b, c], key=dt.datetime.timestamp)
    whole = OFFICE.business_seconds(first, last)
    assert 0 <= whole <= last.timestamp() - first.timestamp() + 1e-6
    split = OFFICE.business_seconds(first, middle) + OFFICE.business_seconds(middle, last)
    assert whole == pytest.approx(split, abs=1e-6)
    always = BusinessCalendar.always("Europe/Berlin")
    assert always.business_seconds(first, last) == pytest.approx(
        last.timestamp() - first.timestamp(), abs=1e-6
    )


def test_moments_across_the_spring_gap_are_ordered_by_instant_not_wall_clock():
    # 02:00 does not exist in Berlin on 2024-03-31; with fold=1 it is 00:00 UTC, which is
    # before 01:00:00.000001+01:00 although its wall clock reads later.
    gap = dt.datetime(2024, 3, 31, 2, 0, fold=1, tzinfo=BERLIN)
    just_after = dt.datetime(2024, 3, 31, 1, 0, 0, 1, tzinfo=BERLIN)
    assert OFFICE.business_seconds(gap, just_after) >= 0
    with pytest.raises(ValueError):
        OFFICE.business_seconds(just_after, gap)


def test_deadline_counts_only_open_hours():
    # Monday 16:00 + 3 business hours: 1 h on Monday, Tuesday 09:00–11:00.
    assert OFFICE.deadline(at(4, 16), 3 * 3600) == at(5, 11)
    # Tuesday 16:30 + 2 h: Wednesday is a holiday, so Thursday 10:30.
    assert OFFICE.deadline(at(5, 16, 30), 2 * 3600) == at(7, 10, 30)
    # Inside the lunch break the clock waits for 13:00.
    assert OFFICE.deadline(at(4, 12, 15), 1800) == at(4, 13, 30)
    # Zero business time from a closed moment is the next opening.
    assert OFFICE.deadline(at(10, 8), 0) == at(11, 9)


def test_deadline_without_any_open_hours_is_refused():
    closed = BusinessCalendar.weekly("UTC", {})
    with pytest.raises(ValueError, match="no business hours"):
        closed.deadline(at(4, 9), 60)
    with pytest.raises(ValueError, match="non-negative"):
        OFFICE.deadline(at(4, 9), -1)


@settings(max_examples=40, deadline=None)
@given(moments, st.integers(min_value=0, max_value=200 * 3600))
def test_deadline_is_the_inverse_of_business_seconds(start, seconds):
    due = OFFICE.deadline(start, seconds)
    assert due.timestamp() >= start.timestamp()
    assert OFFICE.business_seconds(start, due) == pytest.approx(seconds, abs=1e-3)
