from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.feedback.models import FeedbackItem
from opencx.platform.roles import Role
from opencx.surveys.models import Survey
from tests.factories import FeedbackItemFactory, LocationFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


@pytest.fixture
def nps_survey(brand):
    return SurveyFactory(brand=brand, name="Store visit NPS")


def _candidates(client, brand, **params):
    page = client.get(reverse("cases:list", args=[brand.slug]), params)
    assert page.status_code == 200
    return [c.response or c.review for c in page.context["candidates"]]


def test_lists_fresh_detractors_and_unhappy_reviews_newest_first(
    client, brand, owner, store, nps_survey
):
    detractor = ResponseFactory(
        survey=nps_survey, location=store, score=3, comment="Cold food", created_at=_ago(days=2)
    )
    review = FeedbackItemFactory(
        brand=brand, location=store, rating=1, text="Never again", occurred_at=_ago(days=1)
    )
    two_of_ten = FeedbackItemFactory(  # 2/10 is one star of five
        brand=brand, location=store, rating=2, rating_scale=10, occurred_at=_ago(days=40)
    )
    client.force_login(owner)

    page = client.get(reverse("cases:list", args=[brand.slug]))

    assert [c.response or c.review for c in page.context["candidates"]] == [
        review,
        detractor,
        two_of_ten,
    ]
    body = page.content.decode()
    assert "Detractors and unhappy reviews awaiting follow-up" in body
    assert "Cold food" in body and "Never again" in body
    assert reverse("surveys:detail", args=[brand.slug, nps_survey.pk]) in body
    assert reverse("feedback:detail", args=[brand.slug, review.pk]) in body


def test_excludes_promoters_passives_silent_and_old_detractors_and_good_reviews(
    client, brand, owner, store, nps_survey
):
    fresh = ResponseFactory(survey=nps_survey, location=store, score=6, comment="Meh")
    ResponseFactory(survey=nps_survey, location=store, score=10, comment="Great")
    ResponseFactory(survey=nps_survey, location=store, score=7, comment="Fine")
    ResponseFactory(survey=nps_survey, location=store, score=0, comment="")
    ResponseFactory(
        survey=nps_survey, location=store, score=0, comment="Old", created_at=_ago(days=31)
    )
    csat = SurveyFactory(brand=brand, kind=Survey.Kind.CSAT)
    ResponseFactory(survey=csat, location=store, score=1, comment="Low CSAT is not NPS")
    FeedbackItemFactory(brand=brand, location=store, rating=3)
    FeedbackItemFactory(
        brand=brand, location=store, kind=FeedbackItem.Kind.TICKET, rating=1, text="Not a review"
    )
    client.force_login(owner)

    assert _candidates(client, brand) == [fresh]


def test_location_manager_sees_only_their_subtree(
    client, brand, store, sibling_store, nps_survey, make_actor
):
    mine = ResponseFactory(survey=nps_survey, location=store, score=2, comment="Mine")
    ResponseFactory(survey=nps_survey, location=sibling_store, score=2, comment="Theirs")
    FeedbackItemFactory(brand=brand, location=sibling_store, rating=1)
    FeedbackItemFactory(brand=brand, location=None, rating=1)
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    assert _candidates(client, brand) == [mine]


def test_switcher_location_narrows_the_list(client, brand, owner, store, sibling_store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=2, comment="Here")
    theirs = FeedbackItemFactory(brand=brand, location=sibling_store, rating=2)
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling_store.pk
    session.save()

    assert _candidates(client, brand) == [theirs]


def test_paginates_by_50_across_both_sources(client, brand, owner, store, nps_survey):
    ResponseFactory.create_batch(30, survey=nps_survey, location=store, score=1, comment="No")
    FeedbackItemFactory.create_batch(25, brand=brand, location=store, rating=1)
    client.force_login(owner)

    assert len(_candidates(client, brand)) == 50
    assert len(_candidates(client, brand, page=2)) == 5


def test_query_count_is_flat(
    client, brand, owner, store, nps_survey, django_assert_max_num_queries
):
    for _ in range(8):
        location = LocationFactory(parent=store)
        ResponseFactory.create_batch(
            3, survey=nps_survey, location=location, score=1, comment="Bad"
        )
        FeedbackItemFactory.create_batch(3, brand=brand, location=location, rating=1)
    client.force_login(owner)

    with django_assert_max_num_queries(10):
        assert len(_candidates(client, brand)) == 48


def test_empty_state_explains_what_cases_will_be(client, brand, owner):
    client.force_login(owner)

    body = client.get(reverse("cases:list", args=[brand.slug])).content.decode()

    assert "closed-loop" in body and "Nothing awaits follow-up" in body


def test_other_brand_is_404(client, brand, stranger):
    client.force_login(stranger)
    assert client.get(reverse("cases:list", args=[brand.slug])).status_code == 404
