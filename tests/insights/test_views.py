import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.platform.roles import Role
from opencx.surveys.services import response_record
from tests.factories import (
    ConversationFactory,
    MembershipFactory,
    RecordedResponseFactory,
    SurveyFactory,
)


def test_overview_shows_nps_with_n_and_interval(client, brand, owner, store):
    survey = SurveyFactory(brand=brand)
    recent = timezone.now() - timedelta(days=3)
    for score in [10, 10, 9, 8, 3]:
        RecordedResponseFactory(survey=survey, location=store, score=score, created_at=recent)
    client.force_login(owner)

    page = client.get(reverse("insights:overview", args=[brand.slug]))

    assert page.status_code == 200
    nps = page.context["nps"]
    assert (nps.value, nps.n) == (40.0, 5)
    assert nps.ci_low < 40 < nps.ci_high
    assert "thin sample" in page.content.decode()


def test_overview_of_a_brand_the_user_is_not_in_is_404(client, brand, stranger):
    client.force_login(stranger)
    assert client.get(reverse("insights:overview", args=[brand.slug])).status_code == 404


# --- reports ---


def _record(survey, location, scores, *, days_ago, comment=""):
    headline = survey.questions.get(position=0)
    follow_up = survey.questions.filter(kind="text").first()
    moment = timezone.now() - timedelta(days=days_ago)
    for score in scores:
        answers = {headline.pk: score}
        if comment and follow_up:
            answers[follow_up.pk] = comment
        response_record(
            survey=survey, location=location, answers=answers, language="en", created_at=moment
        )


@pytest.fixture
def nps_survey(make_survey):
    return make_survey("nps")[0]


def _overview(client, brand):
    return client.get(reverse("insights:overview", args=[brand.slug]))


def test_the_significance_verdict_follows_the_data(client, brand, owner, store, nps_survey):
    client.force_login(owner)
    _record(nps_survey, store, [10] * 6 + [3] * 4, days_ago=120)  # previous period: +20
    _record(nps_survey, store, [10] * 6 + [8] + [3] * 3, days_ago=5)  # now: +30 on 10 answers

    page = _overview(client, brand)
    change = page.context["change"]
    assert change.difference == pytest.approx(10.0) and not change.significant
    assert "not significant" in page.content.decode()

    _record(nps_survey, store, [10] * 300, days_ago=4)  # now: overwhelmingly promoters
    page = _overview(client, brand)
    change = page.context["change"]
    assert change.significant and change.p_value < 0.05
    html = page.content.decode()
    assert 'class="verdict significant up">significant</span>' in html
    assert "not significant" not in html.split('id="nps-change"')[1].split("</div>\n</section>")[0]


def test_overview_trend_charts_carry_n_interval_thin_flags_and_drill_links(
    client, brand, owner, store, make_survey
):
    client.force_login(owner)
    nps, _, _ = make_survey("nps")
    csat, _, _ = make_survey("csat")
    _record(nps, store, [10, 9, 2], days_ago=1)
    _record(csat, store, [5, 4, 1, 2], days_ago=1)

    page = _overview(client, brand)

    blocks = {block.id: block for block in page.context["trend_charts"]}
    nps_point = blocks["nps-trend"].spec["points"][-1]
    assert (nps_point["y"], nps_point["n"], nps_point["thin"]) == (33.3, 3, True)
    assert nps_point["low"] < 33.3 < nps_point["high"]
    month = timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m")
    assert nps_point["href"].endswith(f"?kind=nps&month={month}")
    assert blocks["csat-trend"].spec["points"][-1]["y"] == 50.0
    html = page.content.decode()
    assert 'id="spec-nps-trend"' in html and 'data-chart="spec-nps-trend"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    spec = json.loads(html.split('id="spec-ces-trend" type="application/json">')[1].split("<")[0])
    assert spec["points"] == []
    assert reverse("insights:insights", args=[brand.slug]) in html


@pytest.fixture
def two_stores(brand, store, sibling_store, nps_survey):
    """Milano is far below Torino, on plenty of answers."""
    _record(nps_survey, store, [2] * 60 + [10] * 20, days_ago=10, comment="My refund is late")
    _record(nps_survey, sibling_store, [10] * 40, days_ago=10, comment="Nice staff")
    _record(nps_survey, sibling_store, [10] * 30 + [8] * 10, days_ago=10, comment="Good bag")
    return store, sibling_store


def test_insights_page_ranks_locations_and_flags_the_one_below(client, brand, owner, two_stores):
    store, sibling = two_stores
    client.force_login(owner)

    page = client.get(reverse("insights:insights", args=[brand.slug]))

    assert page.status_code == 200
    rows = [item["row"] for item in page.context["leaderboard_rows"]]
    assert [row.name for row in rows] == [sibling.name, store.name]
    assert rows[1].significantly_below and rows[1].raw.value == -50.0
    assert not rows[0].significantly_below
    html = page.content.decode()
    assert "significantly below the rest" in html
    assert f"?kind=nps&amp;location={store.pk}&amp;days=90" in html
    drivers = page.context["analysis"].drivers
    assert drivers[0].key == "returns_refunds" and drivers[0].direction == "lowers NPS"
    assert next(d for d in drivers if d.key == "staff").direction == "raises NPS"


def test_insights_shows_first_response_times_with_unanswered_counted(client, brand, owner, store):
    now = timezone.now()
    for hours in (1, 2, 3):
        ConversationFactory(
            brand=brand,
            location=store,
            created_at=now - timedelta(days=2),
            first_reply_at=now - timedelta(days=2) + timedelta(hours=hours),
        )
    ConversationFactory(brand=brand, location=store, created_at=now - timedelta(days=3))
    client.force_login(owner)

    page = client.get(reverse("insights:insights", args=[brand.slug]))

    times = page.context["response_times"]
    assert (times.conversations, times.answered, times.unanswered) == (4, 3, 1)
    assert times.median_hours == pytest.approx(2.0)
    assert "1 never answered" in page.content.decode()


def test_location_manager_sees_only_their_subtree(client, brand, two_stores):
    store, sibling = two_stores
    manager = MembershipFactory(brand=brand, role=Role.LOCATION_MANAGER, location=store).user
    client.force_login(manager)

    page = client.get(reverse("insights:insights", args=[brand.slug]))
    assert [item["row"].name for item in page.context["leaderboard_rows"]] == [store.name]
    overview = _overview(client, brand)
    assert overview.context["nps"].n == 80
    # Asking for the sibling store's rows shows nothing of it: the filter is ignored.
    listing = client.get(reverse("insights:responses", args=[brand.slug]), {"location": sibling.pk})
    assert listing.status_code == 200
    assert {r.location_id for r in listing.context["page"].object_list} == {store.pk}
    export = client.get(
        reverse("insights:responses", args=[brand.slug]),
        {"location": sibling.pk, "export": "csv"},
    )
    body = b"".join(export.streaming_content).decode()
    assert sibling.name not in body and store.name in body


@pytest.mark.parametrize("name", ["insights:overview", "insights:insights", "insights:responses"])
def test_another_brand_gets_404_everywhere(client, brand, stranger, two_stores, name):
    client.force_login(stranger)
    url = reverse(name, args=[brand.slug])
    assert client.get(url).status_code == 404
    assert client.get(url, {"export": "xlsx"}).status_code == 404


def test_drill_down_filters_by_month_band_location_and_topic(
    client, brand, owner, store, sibling_store, nps_survey
):
    _record(nps_survey, store, [3], days_ago=1, comment="The refund never came")
    _record(nps_survey, store, [9], days_ago=1, comment="Lovely")
    _record(nps_survey, sibling_store, [4], days_ago=1, comment="Queue too long, had to wait")
    _record(nps_survey, store, [2], days_ago=100, comment="Old refund story")
    client.force_login(owner)
    url = reverse("insights:responses", args=[brand.slug])

    def scores(**params):
        page = client.get(url, params)
        assert page.status_code == 200
        return sorted(r.score for r in page.context["page"].object_list)

    month = timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m")
    assert scores() == [2, 3, 4, 9]
    assert scores(band="detractor") == [2, 3, 4]
    assert scores(band="detractor", days="90") == [3, 4]
    assert scores(location=store.pk, band="detractor") == [2, 3]
    assert scores(topic="returns_refunds") == [2, 3]
    assert scores(topic="waiting") == [4]
    if timezone.localtime(timezone.now() - timedelta(days=100)).strftime("%Y-%m") != month:
        assert scores(month=month) in ([3, 4, 9], [2, 3, 4, 9])
    assert scores(month="garbage", band="promoter") == [9]


def test_insights_respects_the_location_switcher(client, brand, owner, two_stores):
    store, sibling = two_stores
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling.pk
    session.save()

    page = client.get(reverse("insights:insights", args=[brand.slug]))
    assert [item["row"].name for item in page.context["leaderboard_rows"]] == [sibling.name]
    listing = client.get(reverse("insights:responses", args=[brand.slug]))
    assert {r.location_id for r in listing.context["page"].object_list} == {sibling.pk}


def test_empty_brand_pages_render(client, brand, owner):
    client.force_login(owner)
    for name in ("insights:overview", "insights:insights", "insights:responses"):
        assert client.get(reverse(name, args=[brand.slug])).status_code == 200
