import pytest

from opencx.feedback import selectors
from opencx.feedback.models import FeedbackItem
from opencx.platform.errors import NotFound
from opencx.platform.roles import Role
from tests.factories import BrandFactory, FeedbackItemFactory

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
