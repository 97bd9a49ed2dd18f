from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.platform.roles import Role
from opencx.surveys.models import Question, Survey
from tests.factories import (
    BrandFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def _recent(days=3):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def nps_survey(brand):
    survey = SurveyFactory(brand=brand, name="Store visit NPS")
    QuestionFactory(
        survey=survey, text={"en": "Would you recommend us?", "it": "Ci consiglieresti?"}
    )
    return survey


@pytest.fixture
def manager(make_actor, store):
    return make_actor(Role.LOCATION_MANAGER, store).user


def test_owner_sees_surveys_with_counts_and_nps(client, brand, owner, store, nps_survey):
    for score in [10, 9, 9, 3]:
        ResponseFactory(survey=nps_survey, location=store, score=score, created_at=_recent())
    ResponseFactory(survey=nps_survey, location=store, score=0, created_at=_recent(days=200))
    client.force_login(owner)

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    assert page.status_code == 200
    [(survey, score)] = page.context["rows"]
    assert survey == nps_survey
    assert survey.question_count == 1
    assert survey.recent_responses == 4  # the 200-day-old answer is outside 90 days
    assert (score.value, score.n) == (50.0, 4)
    assert "NPS 50" in page.content.decode()


def test_csat_score_uses_the_stored_satisfied_set_not_an_assumed_scale(client, brand, owner, store):
    survey = SurveyFactory(brand=brand, name="Delivery CSAT", kind=Survey.Kind.CSAT)
    # A 1–3 scale where only 3 counts as satisfied: a 4–5 assumption would find nobody.
    QuestionFactory(
        survey=survey, kind=Question.Kind.CSAT, scale_min=1, scale_max=3, satisfied_values=[3]
    )
    for score in [3, 3, 2, 1]:
        ResponseFactory(survey=survey, location=store, score=score, created_at=_recent())
    client.force_login(owner)

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    [(_, score)] = page.context["rows"]
    assert (score.value, score.n) == (50.0, 4)
    assert "50% satisfied" in page.content.decode()


def test_location_manager_counts_only_their_subtree(
    client, brand, store, sibling_store, nps_survey, manager
):
    ResponseFactory(survey=nps_survey, location=store, score=10, created_at=_recent())
    ResponseFactory(survey=nps_survey, location=sibling_store, score=0, created_at=_recent())
    client.force_login(manager)

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    [(survey, score)] = page.context["rows"]
    assert survey.recent_responses == 1
    assert (score.value, score.n) == (100.0, 1)


def test_switcher_location_narrows_the_list(client, brand, owner, store, sibling_store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=10, created_at=_recent())
    ResponseFactory(survey=nps_survey, location=sibling_store, score=0, created_at=_recent())
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling_store.pk
    session.save()

    page = client.get(reverse("surveys:list", args=[brand.slug]))

    [(survey, score)] = page.context["rows"]
    assert (survey.recent_responses, score.value) == (1, -100.0)


def test_survey_list_query_count_is_flat(
    client, brand, owner, store, django_assert_max_num_queries
):
    for n in range(12):
        survey = SurveyFactory(brand=brand, name=f"Survey {n}")
        QuestionFactory(survey=survey)
        ResponseFactory(survey=survey, location=store, score=n % 11, created_at=_recent())
    client.force_login(owner)

    with django_assert_max_num_queries(10):
        page = client.get(reverse("surveys:list", args=[brand.slug]))

    assert len(page.context["rows"]) == 12


def test_survey_list_of_another_brand_is_404(client, brand, stranger):
    client.force_login(stranger)
    assert client.get(reverse("surveys:list", args=[brand.slug])).status_code == 404


def test_detail_shows_questions_and_responses(client, brand, owner, store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=2, comment="Queue was far too long")
    client.force_login(owner)

    page = client.get(reverse("surveys:detail", args=[brand.slug, nps_survey.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Ci consiglieresti?" in body and "Would you recommend us?" in body
    assert "0–10" in body
    assert "Queue was far too long" in body
    assert page.context["headline"] == nps_survey.questions.get()


def test_detail_filters_by_band_comment_and_location(
    client, brand, owner, region, store, sibling_store, nps_survey
):
    promoter = ResponseFactory(survey=nps_survey, location=store, score=10, comment="Lovely")
    passive = ResponseFactory(survey=nps_survey, location=store, score=7)
    detractor = ResponseFactory(survey=nps_survey, location=sibling_store, score=4, comment="Bad")
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])
    client.force_login(owner)

    def shown(**params):
        return set(client.get(url, params).context["page"].object_list)

    assert shown() == {promoter, passive, detractor}
    assert shown(band="promoter") == {promoter}
    assert shown(band="passive") == {passive}
    assert shown(band="detractor") == {detractor}
    assert shown(comment="yes") == {promoter, detractor}
    assert shown(comment="no") == {passive}
    assert shown(location=sibling_store.pk) == {detractor}
    assert shown(location=region.pk) == {promoter, passive, detractor}


def test_detail_satisfied_band_uses_the_satisfied_set(client, brand, owner, store):
    survey = SurveyFactory(brand=brand, kind=Survey.Kind.CES)
    QuestionFactory(
        survey=survey,
        kind=Question.Kind.CES,
        scale_min=1,
        scale_max=7,
        satisfied_values=[5, 6, 7],
    )
    happy = ResponseFactory(survey=survey, location=store, score=6)
    unhappy = ResponseFactory(survey=survey, location=store, score=4)
    url = reverse("surveys:detail", args=[brand.slug, survey.pk])
    client.force_login(owner)

    assert list(client.get(url, {"band": "satisfied"}).context["page"].object_list) == [happy]
    assert list(client.get(url, {"band": "unsatisfied"}).context["page"].object_list) == [unhappy]


def test_detail_paginates_by_50(client, brand, owner, store, nps_survey):
    ResponseFactory.create_batch(51, survey=nps_survey, location=store)
    client.force_login(owner)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])

    first, second = client.get(url), client.get(url, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1


def test_detail_shows_a_location_manager_only_their_responses(
    client, brand, store, sibling_store, nps_survey, manager
):
    mine = ResponseFactory(survey=nps_survey, location=store, comment="Mine")
    ResponseFactory(survey=nps_survey, location=sibling_store, comment="Theirs")
    client.force_login(manager)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])

    page = client.get(url, {"location": sibling_store.pk})  # a location beyond reach is ignored

    assert list(page.context["page"].object_list) == [mine]
    assert "Theirs" not in page.content.decode()


def test_detail_of_another_brands_survey_is_404(client, owner, brand):
    foreign = SurveyFactory(brand=BrandFactory())
    QuestionFactory(survey=foreign)
    ResponseFactory(survey=foreign, location=LocationFactory(brand=foreign.brand))
    client.force_login(owner)

    assert client.get(reverse("surveys:detail", args=[brand.slug, foreign.pk])).status_code == 404


def test_detail_for_a_stranger_is_404(client, brand, stranger, nps_survey):
    client.force_login(stranger)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])
    assert client.get(url).status_code == 404


def test_htmx_filter_returns_only_the_results_fragment(client, brand, owner, store, nps_survey):
    ResponseFactory(survey=nps_survey, location=store, score=10, comment="Fragment")
    client.force_login(owner)
    url = reverse("surveys:detail", args=[brand.slug, nps_survey.pk])

    fragment = client.get(url, {"band": "promoter"}, headers={"HX-Request": "true"})

    body = fragment.content.decode()
    assert "Fragment" in body
    assert "<html" not in body and "Questions" not in body
