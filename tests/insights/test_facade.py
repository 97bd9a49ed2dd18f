from datetime import UTC, datetime, timedelta

import pytest

from opencx.insights import facade
from opencx.insights.selectors import HeadlineTally, NpsCounts


def test_nps_change_says_significant_only_when_the_data_support_it():
    big = facade.nps_change(NpsCounts(400, 240, 40), NpsCounts(400, 120, 160))
    small = facade.nps_change(NpsCounts(40, 20, 8), NpsCounts(40, 19, 9))

    assert big.difference == pytest.approx(60.0)  # +50 now, −10 before
    assert big.ci_low < 60 < big.ci_high
    assert big.p_value < 0.001
    assert (big.significant, big.verdict, big.direction) == (True, "significant", "up")
    assert small.difference == pytest.approx(5.0)
    assert small.p_value > 0.05
    assert (small.significant, small.verdict) == (False, "not significant")


def test_nps_change_needs_answers_in_both_periods():
    assert facade.nps_change(NpsCounts(10, 5, 1), NpsCounts(0, 0, 0)) is None


def test_leaderboard_ranks_by_shrunken_estimate_and_flags_a_location_far_below():
    entries = [
        (1, "Tiny perfect", NpsCounts(3, 3, 0)),  # raw +100 on three answers
        (2, "Big good", NpsCounts(400, 240, 40)),  # +50
        (3, "Big fine", NpsCounts(400, 200, 60)),  # +35
        (4, "Slow store", NpsCounts(300, 45, 165)),  # −40
    ]

    board = facade.leaderboard(entries)

    names = [row.name for row in board.rows]
    assert names[0] == "Big good"  # the three-answer store is pulled towards the brand
    assert names[-1] == "Slow store"
    tiny = next(row for row in board.rows if row.name == "Tiny perfect")
    assert tiny.raw.value == 100.0 and tiny.estimate < 60
    slow = board.rows[-1]
    assert slow.significantly_below and slow.p_adjusted >= slow.p_value
    assert not any(row.significantly_below for row in board.rows[:-1])
    assert board.total.n == 1103
    assert all(row.ci_low <= row.estimate <= row.ci_high for row in board.rows)


def test_leaderboard_of_nothing_is_empty():
    board = facade.leaderboard([(1, "Empty", NpsCounts(0, 0, 0))])
    assert board.rows == [] and board.total.n == 0


def test_trend_keeps_months_with_answers_and_flags_thin_ones():
    months = {
        datetime(2026, 1, 1).date(): HeadlineTally(n=100, promoters=60, detractors=10),
        datetime(2026, 2, 1).date(): HeadlineTally(n=10, promoters=2, detractors=6),
        datetime(2026, 3, 1).date(): HeadlineTally(),
    }
    points = facade.trend("nps", months)
    assert [(p.month.month, p.score.value, p.is_thin) for p in points] == [
        (1, 50.0, False),
        (2, -40.0, True),
    ]
    share = facade.trend("csat", {datetime(2026, 1, 1).date(): HeadlineTally(n=50, satisfied=40)})
    assert share[0].score.value == 80.0


@pytest.mark.parametrize(
    ("comment", "topic"),
    [
        ("Il reso è stato complicatissimo e il rimborso non è ancora arrivato.", "returns_refunds"),
        ("Возврат оказался очень сложным", "returns_refunds"),
        ("Bu'n rhaid aros yn hir iawn wrth y til", "waiting"),
        ("Das Paket kam eine Woche zu spät.", "delivery"),
        ("Personal muy amable y atento", "staff"),
    ],
)
def test_topics_match_comments_in_several_languages(comment, topic):
    assert facade.mentions(comment, topic)
    assert not facade.mentions("Excellent quality, the bag is beautiful.", topic)


def test_key_drivers_find_what_moves_nps_and_in_which_direction():
    rows = []
    for i in range(300):
        returns = i % 4 == 0
        staff = i % 3 == 0 and not returns
        score = 2 if returns else (10 if staff else (9 if i % 2 else 7))
        comment = "The refund took weeks." if returns else ("Friendly staff!" if staff else "")
        rows.append({"score": score, "comment": comment, "late_delivery": i % 7 == 0})

    analysis = facade.key_drivers(rows, bootstrap=30)

    top = analysis.drivers[0]
    assert top.key == "returns_refunds"
    assert top.direction == "lowers NPS" and top.with_flag.value == -100.0
    staff = next(d for d in analysis.drivers if d.key == "staff")
    assert staff.direction == "raises NPS"
    assert top.ci_low <= top.importance <= top.ci_high
    assert sum(d.importance for d in analysis.drivers) == pytest.approx(100.0)
    assert analysis.n == 300 and 0 < analysis.r_squared <= 1


def test_key_drivers_need_enough_answers():
    analysis = facade.key_drivers([{"score": 10, "comment": "refund"}] * 5)
    assert analysis.drivers == [] and analysis.n == 5


def test_first_response_times_count_unanswered_as_censored_not_zero():
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    hours = {"0": [["09:00", "17:00"]], "1": [["09:00", "17:00"]]}
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
    rows = [(start, start + timedelta(hours=h), "UTC", hours) for h in (1, 2, 3)] + [
        (now - timedelta(hours=100), None, "UTC", hours)
    ] * 3  # still waiting after 100 h

    times = facade.first_response_times(rows, now=now, sla_hours=24)

    assert (times.conversations, times.answered, times.unanswered) == (6, 3, 3)
    # Half the conversations are answered within 3 h, the rest wait > 100 h: the median is the
    # last answered time, never a mean dragged down by zeros.
    assert times.median_hours == pytest.approx(3.0)
    assert times.p90_hours is None  # the curve never reaches 10 % still waiting
    # Three answered within the target, three unanswered past it: 50 %.
    assert times.within_sla.value == pytest.approx(50.0) and times.within_sla.n == 6
    assert times.median_business_hours == pytest.approx(3.0)


def test_business_calendar_reads_a_location_s_opening_hours():
    calendar = facade.business_calendar("Europe/Rome", {"0": [["09:30", "13:00"]], "6": []})
    monday = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # 08:00 in Rome
    assert calendar.business_hours(monday, monday + timedelta(hours=10)) == pytest.approx(3.5)
    always = facade.business_calendar("UTC", {})
    assert always.business_hours(monday, monday + timedelta(hours=5)) == pytest.approx(5.0)


@pytest.mark.parametrize(
    "low, high, higher_is_better, satisfied, good, bad",
    [
        (1, 7, True, {5, 6, 7}, {5, 6, 7}, {1, 2, 3}),  # CES 2.0
        (1, 5, False, {1, 2}, {1, 2}, {4, 5}),  # CES 1.0: lower is better
        (0, 4, True, {3, 4}, {3, 4}, {0, 1}),  # a scale from 0 is read as 1..5
        (1, 4, True, {4}, {4}, {1, 2}),  # no neutral point: 3 is neither
    ],
)
def test_ces_sides_follow_the_stored_scale_and_direction(
    low, high, higher_is_better, satisfied, good, bad
):
    sides = facade.ces_sides(
        low=low, high=high, higher_is_better=higher_is_better, satisfied=frozenset(satisfied)
    )
    assert sides == (frozenset(good), frozenset(bad))


@pytest.mark.parametrize(
    "low, high, higher_is_better, satisfied, message",
    [
        (None, None, True, {4, 5}, "no scale"),
        (1, 7, False, {6, 7}, "polarity"),  # the stored good side is the wrong end
        (1, 5, True, {}, "cannot be empty"),
        (1, 5, True, {6}, "outside"),
    ],
)
def test_ces_sides_refuse_a_scale_that_cannot_give_a_net_index(
    low, high, higher_is_better, satisfied, message
):
    with pytest.raises(facade.MetricRefused, match=message):
        facade.ces_sides(
            low=low, high=high, higher_is_better=higher_is_better, satisfied=frozenset(satisfied)
        )


def test_ua_bounce_leaves_out_sessions_without_a_page_view():
    moment = datetime(2026, 5, 1, tzinfo=UTC)

    def session(location_id, page_views, interactions):
        return {
            "location_id": location_id,
            "first_at": moment,
            "last_at": moment,
            "page_views": page_views,
            "interactions": interactions,
            "purchases": 0,
        }

    rows = [session(1, 1, 0), session(1, 1, 2), session(1, 0, 1), session(2, 3, 0)]
    (total,) = facade.ua_bounce(rows)
    assert (total.score.n, total.hits, total.score.value) == (3, 1, pytest.approx(100 / 3))
    by = facade.ua_bounce(rows, by_location=True)
    assert [(s.location_id, s.score.n, s.hits) for s in by] == [(1, 2, 1), (2, 1, 0)]
    assert facade.ua_bounce([session(1, 0, 1)], by_location=True) == []
