from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.cases import selectors
from opencx.platform.roles import Role
from tests.factories import FeedbackItemFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _keys(actor, location=None):
    since = timezone.now() - timedelta(days=30)
    return selectors.follow_up_candidate_keys(actor, location=location, detractors_since=since)


def test_candidates_merge_both_sources_newest_first(owner_actor, brand, store):
    now = timezone.now()
    survey = SurveyFactory(brand=brand)
    older = ResponseFactory(
        survey=survey, location=store, score=4, comment="Meh", created_at=now - timedelta(days=3)
    )
    newer = FeedbackItemFactory(
        brand=brand, location=store, rating=2, occurred_at=now - timedelta(days=1)
    )
    ResponseFactory(survey=survey, location=store, score=9, comment="Promoter")

    keys = list(_keys(owner_actor))
    candidates = selectors.follow_up_candidates(owner_actor, keys=keys)

    assert [(k[0], k[1]) for k in keys] == [
        (newer.pk, selectors.REVIEW),
        (older.pk, selectors.RESPONSE),
    ]
    assert [(c.review, c.response) for c in candidates] == [(newer, None), (None, older)]
    assert [c.location for c in candidates] == [store, store]


def test_candidates_of_a_location_manager_stay_in_their_subtree(
    make_actor, brand, store, sibling_store
):
    survey = SurveyFactory(brand=brand)
    mine = ResponseFactory(survey=survey, location=store, score=1, comment="Mine")
    ResponseFactory(survey=survey, location=sibling_store, score=1, comment="Theirs")
    FeedbackItemFactory(brand=brand, location=sibling_store, rating=1)
    manager = make_actor(Role.LOCATION_MANAGER, store)

    candidates = selectors.follow_up_candidates(manager, keys=_keys(manager))

    assert [c.response for c in candidates] == [mine]


def test_switcher_location_narrows_the_candidates(owner_actor, brand, store, sibling_store):
    survey = SurveyFactory(brand=brand)
    ResponseFactory(survey=survey, location=store, score=1, comment="Here")
    theirs = FeedbackItemFactory(brand=brand, location=sibling_store, rating=1)

    keys = list(_keys(owner_actor, location=sibling_store))

    assert [(k[0], k[1]) for k in keys] == [(theirs.pk, selectors.REVIEW)]
