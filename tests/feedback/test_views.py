import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from opencx.feedback.models import FeedbackItem
from opencx.insights.text_analysis import text_settings_of
from opencx.platform.roles import Role
from tests.factories import (
    BrandFactory,
    FeedbackItemFactory,
    FeedbackTopicFactory,
    LocationFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def _url(brand, *args):
    name = "feedback:detail" if args else "feedback:list"
    return reverse(name, args=[brand.slug, *args])


def _shown(client, brand, **params):
    return list(client.get(_url(brand), params).context["page"].object_list)


def test_owner_sees_feedback_newest_first_with_stars_and_source(client, brand, owner, store):
    old = FeedbackItemFactory(
        brand=brand, location=store, occurred_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    new = FeedbackItemFactory(
        brand=brand,
        location=store,
        source="trustpilot",
        author="Giulia R.",
        rating=8,
        rating_scale=10,
        text="Good coffee, slow service at lunch time.",
        occurred_at=datetime(2026, 6, 5, tzinfo=UTC),
    )
    client.force_login(owner)

    page = client.get(_url(brand))

    assert page.status_code == 200
    assert list(page.context["page"].object_list) == [new, old]
    body = page.content.decode()
    assert "★★★★☆" in body  # 8/10 shown as four stars of five
    assert "trustpilot" in body and "Giulia R." in body and "Milano Centro" in body
    assert "Good coffee, slow service" in body


def test_filters_narrow_the_list(client, brand, owner, store, sibling_store):
    review = FeedbackItemFactory(
        brand=brand,
        location=store,
        rating=1,
        text="Rude staff",
        author="Ann",
        occurred_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
    )
    mention = FeedbackItemFactory(
        brand=brand,
        location=sibling_store,
        kind=FeedbackItem.Kind.MENTION,
        source="x",
        rating=None,
        rating_scale=None,
        text="Love the new menu",
        occurred_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
    )
    ticket = FeedbackItemFactory(
        brand=brand,
        location=store,
        kind=FeedbackItem.Kind.TICKET,
        source="zendesk",
        rating=None,
        rating_scale=None,
        text="Refund please",
        title="Order 1234",
        occurred_at=datetime(2026, 5, 1, 9, tzinfo=UTC),
    )
    client.force_login(owner)

    assert _shown(client, brand) == [ticket, mention, review]
    assert _shown(client, brand, kind="mention") == [mention]
    assert _shown(client, brand, source="zendesk") == [ticket]
    assert _shown(client, brand, rating=1) == [review]
    assert _shown(client, brand, rating=4) == []
    assert _shown(client, brand, q="RUDE") == [review]
    assert _shown(client, brand, q="order 12") == [ticket]  # the title is searched too
    assert _shown(client, brand, location=sibling_store.pk) == [mention]
    assert _shown(client, brand, **{"from": "2026-04-01", "to": "2026-04-30"}) == [mention]
    assert _shown(client, brand, **{"from": "2026-04-02"}) == [ticket]
    assert _shown(client, brand, kind="nonsense", rating="x", **{"from": "soon"}) == [
        ticket,
        mention,
        review,
    ]


def test_rating_filter_reads_other_scales_as_stars(client, brand, owner, store):
    two_of_ten = FeedbackItemFactory(brand=brand, location=store, rating=2, rating_scale=10)
    FeedbackItemFactory(brand=brand, location=store, rating=5, rating_scale=5)
    client.force_login(owner)

    assert _shown(client, brand, rating=1) == [two_of_ten]


def test_location_manager_sees_only_their_subtree(client, brand, store, sibling_store, make_actor):
    mine = FeedbackItemFactory(brand=brand, location=store)
    FeedbackItemFactory(brand=brand, location=sibling_store)
    FeedbackItemFactory(brand=brand, location=None)  # brand-level: needs brand-wide reach
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    assert _shown(client, brand) == [mine]


def test_switcher_location_narrows_the_list(client, brand, owner, store, sibling_store):
    FeedbackItemFactory(brand=brand, location=store)
    theirs = FeedbackItemFactory(brand=brand, location=sibling_store)
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling_store.pk
    session.save()

    assert _shown(client, brand) == [theirs]


def test_list_paginates_by_50(client, brand, owner, store):
    FeedbackItemFactory.create_batch(51, brand=brand, location=store)
    client.force_login(owner)

    assert len(_shown(client, brand)) == 50
    assert len(_shown(client, brand, page=2)) == 1


def test_list_query_count_is_flat(client, brand, owner, store, django_assert_max_num_queries):
    for _ in range(8):
        for item in FeedbackItemFactory.create_batch(
            4, brand=brand, location=LocationFactory(parent=store)
        ):
            FeedbackTopicFactory(item=item, topic="price")
    text_settings_of(brand)
    client.force_login(owner)

    # + text settings, the page's topics (one prefetch) and the language choices.
    with django_assert_max_num_queries(12):
        page = client.get(_url(brand))

    assert len(page.context["page"].object_list) == 32


def test_detail_shows_the_full_text(client, brand, owner, store):
    text = "A long story. " * 40 + "The end."
    item = FeedbackItemFactory(brand=brand, location=store, text=text, url="https://g.test/r/1")
    client.force_login(owner)

    page = client.get(_url(brand, item.pk))

    assert page.status_code == 200
    body = page.content.decode()
    assert "The end." in body and "https://g.test/r/1" in body


def test_detail_of_a_sibling_store_is_404_for_a_location_manager(
    client, brand, store, sibling_store, make_actor
):
    mine = FeedbackItemFactory(brand=brand, location=store)
    theirs = FeedbackItemFactory(brand=brand, location=sibling_store)
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    assert client.get(_url(brand, mine.pk)).status_code == 200
    assert client.get(_url(brand, theirs.pk)).status_code == 404


def test_detail_of_another_brand_is_404(client, brand, owner, stranger, store):
    foreign = FeedbackItemFactory(brand=BrandFactory())
    ours = FeedbackItemFactory(brand=brand, location=store)
    client.force_login(owner)
    assert client.get(_url(brand, foreign.pk)).status_code == 404

    client.force_login(stranger)
    assert client.get(_url(brand)).status_code == 404
    assert client.get(_url(brand, ours.pk)).status_code == 404


# --- the explorer: text analytics filters, chips, redaction, export ----------------------------

ANALYSED = datetime(2026, 5, 2, tzinfo=UTC)
PII = "Call me on +44 20 7946 0958 or ana@example.com about order 7"


def _analysed(brand, store, *, topics=(), **fields):
    fields = {"sentiment": "neutral", "sentiment_score": 0.0, "analysed_at": ANALYSED, **fields}
    item = FeedbackItemFactory(brand=brand, location=store, **fields)
    for topic in topics:
        FeedbackTopicFactory(item=item, topic=topic)
    return item


def _redact(brand, on=True):
    settings = text_settings_of(brand)
    settings.redact_pii = on
    settings.save()


def _csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(body)))


def test_text_analytics_filters_narrow_the_list(client, brand, owner, store):
    slow = _analysed(
        brand, store, topics=["waiting_time"], sentiment="negative", sentiment_score=-0.8,
        language="it", occurred_at=datetime(2026, 5, 3, tzinfo=UTC),
    )  # fmt: skip
    cheap = _analysed(
        brand, store, topics=["price", "waiting_time"], sentiment="positive",
        sentiment_score=0.6, language="en", occurred_at=datetime(2026, 5, 2, tzinfo=UTC),
    )  # fmt: skip
    plain = _analysed(brand, store, language="en", occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    waiting = FeedbackItemFactory(
        brand=brand, location=store, occurred_at=datetime(2026, 4, 1, tzinfo=UTC)
    )
    client.force_login(owner)

    assert _shown(client, brand, language="it") == [slow]
    assert _shown(client, brand, sentiment="negative") == [slow]
    assert _shown(client, brand, sentiment="none") == [waiting]  # not analysed yet
    assert _shown(client, brand, topic="waiting_time") == [slow, cheap]
    assert _shown(client, brand, topic="price", language="en") == [cheap]
    assert _shown(client, brand, topic="none") == [plain]  # analysed, in no topic
    # Values outside the choices (a topic not in the taxonomy) are ignored, not an error.
    assert _shown(client, brand, topic="made_up", sentiment="angry") == [
        slow,
        cheap,
        plain,
        waiting,
    ]


def test_survey_comments_filter_by_kind_and_nps_band(client, brand, owner, store):
    survey = SurveyFactory(brand=brand)
    detractor = FeedbackItemFactory(
        brand=brand, location=store, kind=FeedbackItem.Kind.SURVEY, source="survey",
        rating=None, rating_scale=None,
        response=ResponseFactory(survey=survey, location=store, score=3),
    )  # fmt: skip
    promoter = FeedbackItemFactory(
        brand=brand, location=store, kind=FeedbackItem.Kind.SURVEY, source="survey",
        rating=None, rating_scale=None,
        response=ResponseFactory(survey=survey, location=store, score=10),
        occurred_at=datetime(2026, 4, 1, tzinfo=UTC),
    )  # fmt: skip
    FeedbackItemFactory(brand=brand, location=store, rating=1)
    client.force_login(owner)

    assert _shown(client, brand, kind="survey") == [detractor, promoter]
    assert _shown(client, brand, nps="detractor") == [detractor]
    assert _shown(client, brand, nps="promoter") == [promoter]
    body = client.get(_url(brand), {"kind": "survey"}).content.decode()
    assert "3 / 10" in body and "Survey comment" in body


def test_rows_show_language_sentiment_topics_and_keyphrases(client, brand, owner, store):
    _analysed(
        brand, store, topics=["waiting_time"], language="it", sentiment="negative",
        sentiment_score=-0.75, keyphrases=["coda lunga", "cassa lenta"],
    )  # fmt: skip
    FeedbackItemFactory(brand=brand, location=store, text="Fresh, not analysed")
    client.force_login(owner)

    body = client.get(_url(brand)).content.decode()

    assert "negative -0.75" in body and 'class="badge bad"' in body
    topic_link = reverse("feedback:list", args=[brand.slug]) + "?topic=waiting_time"
    assert f'href="{topic_link}">Waiting time</a>' in body  # a chip drills down to its topic
    assert "coda lunga · cassa lenta" in body
    assert "Not analysed yet" in body
    assert ">it<" in body


def test_filtering_through_htmx_returns_only_the_results(client, brand, owner, store):
    _analysed(brand, store, topics=["price"], text="Too expensive")
    client.force_login(owner)

    fragment = client.get(_url(brand), {"topic": "price"}, headers={"HX-Request": "true"})

    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "Too expensive" in body and "<form" not in body


def test_pii_is_redacted_in_list_detail_and_export_when_the_brand_asks(client, brand, owner, store):
    item = _analysed(
        brand, store, text=PII, title="From ana@example.com", author="ana@example.com",
        keyphrases=["ana@example.com"],
    )  # fmt: skip
    client.force_login(owner)

    for body in (
        client.get(_url(brand)).content.decode(),
        client.get(_url(brand, item.pk)).content.decode(),
    ):
        assert "ana@example.com" in body and "7946 0958" in body  # redaction off: shown as is
    [row] = _csv(client.get(_url(brand), {"export": "csv"}))
    assert row["Text"] == PII

    _redact(brand)

    listed = client.get(_url(brand)).content.decode()
    detail = client.get(_url(brand, item.pk)).content.decode()
    for body in (listed, detail):
        assert "ana@example.com" not in body and "7946" not in body
        assert "[email]" in body and "[phone]" in body
    [row] = _csv(client.get(_url(brand), {"export": "csv"}))
    assert row["Text"] == "Call me on [phone] or [email] about order 7"
    assert row["Title"] == "From [email]" and row["Author"] == "[email]"
    assert row["Keyphrases"] == "[email]"
    item.refresh_from_db()
    assert item.text == PII  # only what is shown changes, never what is stored


def test_export_holds_every_filtered_row_with_its_analysis(client, brand, owner, store):
    for n in range(3):
        _analysed(
            brand, store, topics=["price", "waiting_time"], sentiment="negative",
            sentiment_score=-0.5, text=f"Expensive {n}", language="en",
            keyphrases=["price", "queue"],
        )  # fmt: skip
    _analysed(brand, store, text="=HYPERLINK(1)", sentiment="positive")
    client.force_login(owner)

    rows = _csv(client.get(_url(brand), {"export": "csv", "sentiment": "negative"}))

    assert len(rows) == 3
    assert {row["Topics"] for row in rows} == {"Price; Waiting time"}
    assert {row["Sentiment"] for row in rows} == {"negative"}
    assert rows[0]["Keyphrases"] == "price; queue" and rows[0]["Location"] == "Milano Centro"
    everything = _csv(client.get(_url(brand), {"export": "csv"}))
    assert "'=HYPERLINK(1)" in {row["Text"] for row in everything}  # no formula runs
    page = client.get(_url(brand), {"sentiment": "negative"}).content.decode()
    assert "sentiment=negative&amp;export=csv" in page  # the link keeps the filters


def test_export_respects_the_members_reach(client, brand, store, sibling_store, make_actor):
    _analysed(brand, store, text="Mine")
    _analysed(brand, sibling_store, text="Theirs")
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    rows = _csv(client.get(_url(brand), {"export": "csv", "location": sibling_store.pk}))

    assert [row["Text"] for row in rows] == ["Mine"]  # another store's id is not in reach
