import pytest

from opencx.feedback import selectors
from opencx.feedback.models import FeedbackItem
from opencx.platform.errors import NotFound
from opencx.platform.roles import Role
from tests.factories import (
    BrandFactory,
    FeedbackItemFactory,
    FeedbackTopicFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rating", "scale", "stars"),
    [(4, 5, 4.0), (8, 10, 4.0), (1, 10, 0.5), (5, None, 5.0), (None, 5, None)],
)
def test_stars_bring_any_scale_to_five(owner_actor, brand, store, rating, scale, stars):
    FeedbackItemFactory(brand=brand, location=store, rating=rating, rating_scale=scale)

    [item] = selectors.feedback_list(owner_actor, location=None)

    assert item.stars == stars


def test_star_filter_rounds_half_up(owner_actor, brand, store):
    # 2.5 stars rounds to 3, 2.4 stars (4.8/10) rounds to 2.
    three = FeedbackItemFactory(brand=brand, location=store, rating=5, rating_scale=10)
    two = FeedbackItemFactory(brand=brand, location=store, rating="4.8", rating_scale=10)

    assert list(selectors.feedback_list(owner_actor, location=None, stars=3)) == [three]
    assert list(selectors.feedback_list(owner_actor, location=None, stars=2)) == [two]


def test_unhappy_reviews_are_reviews_of_one_or_two_stars(owner_actor, brand, store):
    one = FeedbackItemFactory(brand=brand, location=store, rating=1)
    two_of_ten = FeedbackItemFactory(brand=brand, location=store, rating=4, rating_scale=10)
    FeedbackItemFactory(brand=brand, location=store, rating=3)
    FeedbackItemFactory(brand=brand, location=store, rating=None, rating_scale=None)
    FeedbackItemFactory(brand=brand, location=store, rating=1, kind=FeedbackItem.Kind.TICKET)

    found = set(selectors.unhappy_reviews(owner_actor, location=None))

    assert found == {one, two_of_ten}


def test_brand_level_feedback_needs_brand_wide_reach(owner_actor, make_actor, brand, store):
    brand_level = FeedbackItemFactory(brand=brand, location=None)
    manager = make_actor(Role.LOCATION_MANAGER, store)

    assert selectors.feedback_get(owner_actor, pk=brand_level.pk) == brand_level
    with pytest.raises(NotFound):
        selectors.feedback_get(manager, pk=brand_level.pk)


def test_feedback_sources_are_those_in_reach(owner_actor, brand, store):
    FeedbackItemFactory(brand=brand, location=store, source="google")
    FeedbackItemFactory(brand=brand, location=store, source="google")
    FeedbackItemFactory(brand=brand, location=store, source="x")
    FeedbackItemFactory(brand=BrandFactory(), source="secret-rival-source")

    assert selectors.feedback_sources(owner_actor) == ["google", "x"]


def test_feedback_languages_are_those_in_reach(
    owner_actor, make_actor, brand, store, sibling_store
):
    FeedbackItemFactory(brand=brand, location=store, language="it")
    FeedbackItemFactory(brand=brand, location=store, language="")
    FeedbackItemFactory(brand=brand, location=sibling_store, language="en")
    FeedbackItemFactory(brand=BrandFactory(), language="cy")

    assert selectors.feedback_languages(owner_actor) == ["en", "it"]
    assert selectors.feedback_languages(make_actor(Role.LOCATION_MANAGER, store)) == ["it"]


def test_topic_filter_reads_topic_rows_and_none_means_analysed_without_any(
    owner_actor, brand, store
):
    when = "2026-05-02T00:00Z"
    both = FeedbackItemFactory(brand=brand, location=store, analysed_at=when)
    FeedbackTopicFactory(item=both, topic="price")
    FeedbackTopicFactory(item=both, topic="delivery")
    bare = FeedbackItemFactory(brand=brand, location=store, analysed_at=when)
    FeedbackItemFactory(brand=brand, location=store)  # not analysed: in no list of topics yet
    other_brand_item = FeedbackItemFactory(brand=BrandFactory())
    FeedbackTopicFactory(item=other_brand_item, topic="price")

    def found(**filters):
        return list(selectors.feedback_list(owner_actor, location=None, **filters))

    assert found(topic="price") == [both]  # listed once although it has two topics
    assert found(topic="delivery") == [both]
    assert found(topic=selectors.NO_TOPIC) == [bare]


def test_sentiment_filter_and_not_analysed(owner_actor, brand, store):
    negative = FeedbackItemFactory(
        brand=brand, location=store, sentiment="negative", analysed_at="2026-05-02T00:00Z"
    )
    waiting = FeedbackItemFactory(brand=brand, location=store)

    assert list(selectors.feedback_list(owner_actor, location=None, sentiment="negative")) == [
        negative
    ]
    assert list(
        selectors.feedback_list(owner_actor, location=None, sentiment=selectors.NOT_ANALYSED)
    ) == [waiting]


def test_nps_band_keeps_comments_of_nps_surveys_in_that_band(owner_actor, brand, store):
    nps, csat = SurveyFactory(brand=brand), SurveyFactory(brand=brand, kind="csat")

    def comment(survey, score):
        return FeedbackItemFactory(
            brand=brand, location=store, kind=FeedbackItem.Kind.SURVEY, source="survey",
            response=ResponseFactory(survey=survey, location=store, score=score),
        )  # fmt: skip

    six, seven, nine = comment(nps, 6), comment(nps, 7), comment(nps, 9)
    comment(csat, 2)  # a CSAT answer of 2 is no NPS detractor

    def band(name):
        return set(selectors.feedback_list(owner_actor, location=None, nps_band=name))

    assert band("detractor") == {six}
    assert band("passive") == {seven}
    assert band("promoter") == {nine}
