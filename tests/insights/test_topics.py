"""The Topics page: figures per topic, NPS and stars with and without it, the weekly trend,
drill-down links that lead to exactly the items counted, exports and access."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.feedback.models import FeedbackItem
from opencx.insights import topics
from opencx.insights.text_analysis import text_settings_of, topic_names
from opencx.platform.roles import Role
from tests.factories import (
    FeedbackItemFactory,
    FeedbackTopicFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

MAY = datetime(2026, 5, 6, 12, tzinfo=UTC)  # a Wednesday
PERIOD = {"from": "2026-04-01", "to": "2026-05-31"}
FILTERS = topics.TopicFilters(date_from=date(2026, 4, 1), date_to=date(2026, 5, 31))


def _item(brand, store, *, topics=(), sentiment="neutral", score=0.0, when=MAY, **fields):
    item = FeedbackItemFactory(
        brand=brand,
        location=store,
        sentiment=sentiment,
        sentiment_score=score,
        analysed_at=when,
        occurred_at=when,
        **fields,
    )
    for topic in topics:
        FeedbackTopicFactory(item=item, topic=topic)
    return item


def _comment(brand, store, survey, nps, *, topics=(), **fields):
    """An analysed survey comment whose response scored `nps` (0–10)."""
    return _item(
        brand,
        store,
        topics=topics,
        kind=FeedbackItem.Kind.SURVEY,
        source="survey",
        rating=None,
        rating_scale=None,
        response=ResponseFactory(survey=survey, location=store, score=nps),
        **fields,
    )


@pytest.fixture
def detractor_world(brand, store):
    """Waiting time comes up only in detractors' comments; price evenly everywhere."""
    survey = SurveyFactory(brand=brand)
    for n in range(30):
        _comment(brand, store, survey, 2, topics=["waiting_time"] + (["price"] if n % 2 else []),
                 sentiment="negative", score=-0.8)  # fmt: skip
    for n in range(30):
        _comment(brand, store, survey, 10, topics=["price"] if n % 2 else [],
                 sentiment="positive", score=0.9)  # fmt: skip
    return survey


def _by_id(overview):
    return {topic.id: topic for topic in overview.topics}


def test_a_topic_only_on_detractor_comments_lowers_nps_and_ranks_first(
    owner_actor, detractor_world
):
    overview = topics.topic_overview(owner_actor, location=None, filters=FILTERS)
    waiting, price = _by_id(overview)["waiting_time"], _by_id(overview)["price"]

    assert overview.analysed == 60 and overview.nps.value == 0.0  # 30 promoters, 30 detractors
    assert waiting.mentions == 30 and waiting.share.value == 50.0
    assert waiting.nps_with.value == -100.0 and waiting.nps_with.n == 30
    assert waiting.nps_without.value == 100.0 and waiting.nps_without.n == 30
    assert waiting.nps_impact == -200.0
    assert waiting.nps_p_adjusted < 0.05 and waiting.lowers_nps
    assert waiting.negative.value == 100.0 and waiting.negative.n == 30
    assert waiting.sentiment.value == pytest.approx(-0.8)
    assert overview.topics[0] is waiting
    # Price is everywhere alike: no difference, no flag.
    assert price.nps_with.value == 0.0 and price.nps_without.value == 0.0
    assert price.nps_impact == 0.0 and not price.lowers_nps


def test_negative_share_interval_and_thin_flag(owner_actor, brand, store):
    for n in range(4):
        _item(brand, store, topics=["cleanliness"], sentiment="negative" if n < 3 else "positive")

    [clean] = [t for t in topics.topic_overview(owner_actor, location=None, filters=FILTERS).topics
               if t.id == "cleanliness"]  # fmt: skip

    assert clean.negative.value == 75.0 and clean.negative.n == 4
    assert clean.negative.ci_low < 75.0 < clean.negative.ci_high  # Wilson interval
    assert clean.is_thin and clean.nps_change is None and clean.nps_p_adjusted is None


def test_reviews_show_mean_stars_with_and_without(owner_actor, brand, store):
    for _ in range(5):
        _item(brand, store, topics=["cleanliness"], rating=1)
        _item(brand, store, rating=5)
    _item(brand, store, topics=["cleanliness"], rating=None, rating_scale=None)  # unrated

    clean = _by_id(topics.topic_overview(owner_actor, location=None, filters=FILTERS))[
        "cleanliness"
    ]

    assert clean.mentions == 6
    assert clean.stars_with.value == 1.0 and clean.stars_with.n == 5
    assert clean.stars_without.value == 5.0 and clean.stars_without.n == 5
    assert clean.stars_change.difference == -4.0 and clean.stars_change.p_value < 0.05


def test_items_outside_the_period_or_not_analysed_are_not_counted(owner_actor, brand, store):
    _item(brand, store, topics=["price"])
    _item(brand, store, topics=["price"], when=datetime(2026, 3, 1, tzinfo=UTC))
    FeedbackItemFactory(brand=brand, location=store, occurred_at=MAY)  # waiting for analysis
    _item(brand, store)  # analysed, in no topic
    _item(brand, store, topics=["retired_topic"])  # no longer in the taxonomy

    overview = topics.topic_overview(owner_actor, location=None, filters=FILTERS)

    assert overview.in_view == 4 and overview.analysed == 3 and overview.not_analysed == 1
    assert _by_id(overview)["price"].mentions == 1
    assert overview.no_topic == 2
    assert overview.topics[0].id == "price"  # the mentioned topic first
    assert {t.id for t in overview.topics} == set(topic_names(text_settings_of(brand)))


def test_weekly_trend_has_every_week_of_the_period(owner_actor, brand, store):
    _item(brand, store, topics=["price"], sentiment="negative")
    _item(brand, store, topics=["price"], sentiment="positive", when=MAY + timedelta(days=1))
    _item(brand, store, topics=["price"], when=MAY + timedelta(days=7))

    weeks = topics.topic_weeks(owner_actor, location=None, filters=FILTERS, topic="price")

    assert weeks[0].week == date(2026, 3, 30) and weeks[-1].week == date(2026, 5, 25)
    assert all(week.week.weekday() == 0 for week in weeks)
    by_week = {week.week: week for week in weeks}
    assert by_week[date(2026, 5, 4)].mentions == 2
    assert by_week[date(2026, 5, 4)].negative.value == 50.0
    assert by_week[date(2026, 5, 11)].mentions == 1
    assert sum(week.mentions for week in weeks) == 3


# --- the page ---------------------------------------------------------------------------------


def _url(brand):
    return reverse("topics:topics", args=[brand.slug])


def _list_ids(client, href):
    """The ids the feedback list shows behind a drill-down link (every page)."""
    page = client.get(href)
    assert page.status_code == 200
    return {item.pk for item in page.context["page"].paginator.object_list}


def test_page_ranks_topics_and_every_figure_drills_down_to_its_items(
    client, brand, owner, store, detractor_world
):
    client.force_login(owner)

    page = client.get(_url(brand), PERIOD)

    assert page.status_code == 200
    body = page.content.decode()
    assert "lowers NPS" in body and "Waiting time" in body
    first = page.context["rows"][0]
    assert first["topic"].id == "waiting_time"
    waiting = set(
        FeedbackItem.objects.filter(topic_rows__topic="waiting_time").values_list("pk", flat=True)
    )
    query = parse_qs(urlsplit(first["href"]).query)
    assert query == {"from": ["2026-04-01"], "to": ["2026-05-31"], "topic": ["waiting_time"]}
    assert _list_ids(client, first["href"]) == waiting
    assert _list_ids(client, first["negative_href"]) == waiting  # all of them negative
    assert _list_ids(client, first["detractors_href"]) == waiting
    assert _list_ids(client, first["nps_href"]) == waiting
    assert first["href"].replace("&", "&amp;") in body
    no_topic = page.context["no_topic_href"]
    assert len(_list_ids(client, no_topic)) == page.context["overview"].no_topic == 15


def test_trend_charts_and_their_week_links(client, brand, owner, store):
    _item(brand, store, topics=["delivery"], sentiment="negative")
    client.force_login(owner)

    page = client.get(_url(brand), {**PERIOD, "topic": "delivery"})

    mentions, negative = page.context["trend"]
    assert mentions.spec["type"] == "bar" and negative.spec["type"] == "band"
    [point] = [p for p in mentions.spec["points"] if p["y"]]
    assert point["x"] == "04 May 2026"
    query = parse_qs(urlsplit(point["href"]).query)
    assert query["from"] == ["2026-05-04"] and query["to"] == ["2026-05-10"]
    assert _list_ids(client, point["href"]) == {FeedbackItem.objects.get().pk}
    [bad] = negative.spec["points"]
    assert bad["y"] == 100.0 and bad["thin"] and "sentiment=negative" in bad["href"]
    assert 'data-chart="spec-trend-negative"' in page.content.decode()


def test_default_period_is_the_last_90_days(client, brand, owner, store):
    today = timezone.localdate()
    _item(brand, store, topics=["price"], when=timezone.now() - timedelta(days=3))
    _item(brand, store, topics=["price"], when=timezone.now() - timedelta(days=200))
    client.force_login(owner)

    page = client.get(_url(brand))

    overview = page.context["overview"]
    assert overview.filters.date_to == today
    assert overview.filters.date_from == today - timedelta(days=89)
    assert _by_id(overview)["price"].mentions == 1


def test_topics_table_downloads_as_csv(client, brand, owner, store, detractor_world):
    client.force_login(owner)

    response = client.get(_url(brand), {**PERIOD, "export": "csv", "table": "topics"})

    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["Topic"] == "Waiting time" and rows[0]["NPS difference"] == "-200.0"
    assert len(rows) == len(topic_names(text_settings_of(brand)))


def test_a_location_manager_counts_only_their_store(
    client, brand, store, sibling_store, make_actor
):
    _item(brand, store, topics=["price"])
    _item(brand, sibling_store, topics=["price"])
    _item(brand, sibling_store, topics=["price"])
    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)

    # Naming the other store in the filter changes nothing: it is not in reach.
    page = client.get(_url(brand), {**PERIOD, "location": sibling_store.pk})

    assert page.status_code == 200
    assert _by_id(page.context["overview"])["price"].mentions == 1
    direct = topics.topic_overview(manager, location=None, filters=FILTERS)
    assert _by_id(direct)["price"].mentions == 1


def test_the_location_filter_narrows_to_a_subtree(client, brand, owner, store, sibling_store):
    _item(brand, store, topics=["price"])
    _item(brand, sibling_store, topics=["price"])
    client.force_login(owner)

    page = client.get(_url(brand), {**PERIOD, "location": store.pk})

    row = _by_id(page.context["overview"])["price"]
    assert row.mentions == 1
    href = page.context["rows"][0]["href"]
    assert f"location={store.pk}" in href and len(_list_ids(client, href)) == 1


def test_another_brand_gets_404(client, brand, stranger, store):
    _item(brand, store, topics=["price"])
    client.force_login(stranger)

    assert client.get(_url(brand)).status_code == 404
    assert client.get(_url(brand), {"export": "csv", "table": "topics"}).status_code == 404


def test_nav_links_to_topics(client, brand, owner):
    client.force_login(owner)

    body = client.get(reverse("feedback:list", args=[brand.slug])).content.decode()

    assert f'href="{_url(brand)}"' in body
