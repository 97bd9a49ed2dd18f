from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.platform.errors import NotFound
from opencx.platform.roles import Role
from opencx.surveys import selectors
from opencx.surveys.models import Question, Survey
from tests.factories import BrandFactory, QuestionFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _since():
    return timezone.now() - timedelta(days=90)


def test_headline_counts_follow_each_surveys_own_satisfied_set(owner_actor, brand, store):
    ces = SurveyFactory(brand=brand, kind=Survey.Kind.CES)
    QuestionFactory(survey=ces, kind=Question.Kind.TEXT, position=0, satisfied_values=[1])
    QuestionFactory(
        survey=ces,
        kind=Question.Kind.CES,
        position=1,
        scale_min=1,
        scale_max=7,
        satisfied_values=[6, 7],
    )
    for score in [7, 6, 5, 1]:
        ResponseFactory(survey=ces, location=store, score=score)

    counts = selectors.survey_headline_counts(
        owner_actor, surveys=[ces], location=None, since=_since()
    )[ces.pk]

    assert (counts.n, counts.satisfied, counts.has_headline) == (4, 2, True)


def test_a_survey_without_a_headline_question_has_no_score(owner_actor, brand, store):
    custom = SurveyFactory(brand=brand, kind=Survey.Kind.CUSTOM)
    QuestionFactory(survey=custom, kind=Question.Kind.TEXT)
    ResponseFactory(survey=custom, location=store, score=5)

    counts = selectors.survey_headline_counts(
        owner_actor, surveys=[custom], location=None, since=_since()
    )[custom.pk]

    assert counts.has_headline is False and counts.n == 0


def test_nps_counts_respect_the_location_scope(make_actor, brand, store, sibling_store):
    survey = SurveyFactory(brand=brand)
    QuestionFactory(survey=survey)
    for score, location in [(10, store), (3, store), (0, sibling_store)]:
        ResponseFactory(survey=survey, location=location, score=score)
    manager = make_actor(Role.LOCATION_MANAGER, store)

    counts = selectors.survey_headline_counts(
        manager, surveys=[survey], location=None, since=_since()
    )[survey.pk]

    assert (counts.n, counts.promoters, counts.detractors) == (2, 1, 1)


def test_survey_get_refuses_another_brands_survey(owner_actor):
    with pytest.raises(NotFound):
        selectors.survey_get(owner_actor, pk=SurveyFactory(brand=BrandFactory()).pk)


def test_detractor_responses_need_a_comment_a_recent_date_and_an_nps_survey(
    owner_actor, brand, store
):
    nps = SurveyFactory(brand=brand)
    fresh = ResponseFactory(survey=nps, location=store, score=6, comment="Slow")
    ResponseFactory(survey=nps, location=store, score=7, comment="Passive")
    ResponseFactory(survey=nps, location=store, score=2, comment="")
    ResponseFactory(
        survey=nps,
        location=store,
        score=2,
        comment="Old",
        created_at=timezone.now() - timedelta(days=45),
    )
    csat = SurveyFactory(brand=brand, kind=Survey.Kind.CSAT)
    ResponseFactory(survey=csat, location=store, score=1, comment="CSAT")

    since = timezone.now() - timedelta(days=30)
    assert list(selectors.detractor_responses(owner_actor, location=None, since=since)) == [fresh]
