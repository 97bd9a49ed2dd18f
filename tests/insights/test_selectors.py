"""The Overview's selectors read the rollups, scoped to the actor and the chosen location."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opencx.insights import selectors
from opencx.insights.models import ResponseRollup
from opencx.insights.selectors import NpsCounts
from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Role
from opencx.surveys.models import Response
from opencx.surveys.services import response_record
from tests.factories import LocationFactory, QuestionFactory, ResponseFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
SINCE = NOW - timedelta(days=90)


@pytest.fixture
def answered(brand, store, sibling_store, make_survey):
    """NPS: Milano 10, 10, 3 (recent) and 0 (old); Torino 9. CSAT: Milano 5, 2. CES: Torino 6."""
    surveys = {kind: make_survey(kind) for kind in ("nps", "csat", "ces")}

    def answer(kind, location, score, when=NOW):
        survey, headline, _ = surveys[kind]
        response_record(
            survey=survey,
            location=location,
            answers={headline.pk: score},
            language="it",
            created_at=when,
        )

    for score in (10, 10, 3):
        answer("nps", store, score)
    answer("nps", store, 0, when=NOW - timedelta(days=120))
    answer("nps", sibling_store, 9, when=NOW - timedelta(days=40))
    answer("csat", store, 5)
    answer("csat", store, 2)
    answer("ces", sibling_store, 6)
    return surveys


def test_overview_counts_come_from_the_rollups_not_the_responses(owner_actor, answered):
    Response.objects.all().delete()  # the raw rows are gone; the counts stay

    assert selectors.nps_counts(owner_actor, location=None, since=SINCE) == NpsCounts(4, 3, 1)
    assert selectors.satisfied_counts(owner_actor, kind="csat", location=None, since=SINCE) == (
        2,
        1,
    )
    assert selectors.satisfied_counts(owner_actor, kind="ces", location=None, since=SINCE) == (
        1,
        1,
    )


def test_until_excludes_its_day_and_since_includes_its_day(owner_actor, answered):
    old = NOW - timedelta(days=120)
    counts = selectors.nps_counts(owner_actor, location=None, since=old, until=old)
    assert counts == NpsCounts(0, 0, 0)
    counts = selectors.nps_counts(
        owner_actor, location=None, since=old + timedelta(hours=1), until=SINCE
    )
    assert counts == NpsCounts(1, 0, 1)


def test_by_month_and_by_location(owner_actor, store, sibling_store, answered):
    months = selectors.nps_counts_by_month(
        owner_actor, location=None, since=NOW - timedelta(days=200)
    )
    assert months == [
        (date(2026, 1, 1), NpsCounts(1, 0, 1)),
        (date(2026, 4, 1), NpsCounts(1, 1, 0)),
        (date(2026, 5, 1), NpsCounts(3, 2, 1)),
    ]
    rows = selectors.nps_counts_by_location(owner_actor, location=None, since=SINCE)
    assert rows == [
        (store.pk, "Milano Centro", "IT", NpsCounts(3, 2, 1)),
        (sibling_store.pk, "Torino", "IT", NpsCounts(1, 1, 0)),
    ]


def test_the_chosen_location_and_the_actor_scope_narrow_the_counts(
    owner_actor, make_actor, store, sibling_store, answered
):
    assert selectors.nps_counts(owner_actor, location=sibling_store, since=SINCE) == NpsCounts(
        1, 1, 0
    )
    manager = make_actor(Role.LOCATION_MANAGER, store)
    assert selectors.nps_counts(manager, location=None, since=SINCE) == NpsCounts(3, 2, 1)
    assert [
        row[0] for row in selectors.nps_counts_by_location(manager, location=None, since=SINCE)
    ] == [store.pk]


def test_other_brands_rollups_are_never_counted(owner_actor, other_brand, make_survey):
    survey, headline, _ = make_survey("nps", of_brand=other_brand)
    response_record(
        survey=survey,
        location=LocationFactory(brand=other_brand),
        answers={headline.pk: 10},
        language="en",
        created_at=NOW,
    )
    assert ResponseRollup.objects.count() == 1
    assert selectors.nps_counts(owner_actor, location=None, since=SINCE) == NpsCounts(0, 0, 0)


def test_only_the_headline_question_makes_a_survey_score(owner_actor, store, make_survey):
    survey, headline, _ = make_survey("nps")
    second = QuestionFactory(survey=survey, kind="nps", position=5, scale_min=0, scale_max=10)
    response_record(
        survey=survey,
        location=store,
        answers={headline.pk: 10, second.pk: 0},
        language="en",
        created_at=NOW,
    )
    assert selectors.nps_counts(owner_actor, location=None, since=SINCE) == NpsCounts(1, 1, 0)


def test_overview_queries_stay_flat_with_more_data(owner_actor, store, sibling_store, answered):
    with CaptureQueriesContext(connection) as few:
        selectors.nps_counts_by_month(owner_actor, location=None, since=SINCE)
    survey, headline, _ = answered["nps"]
    for day in range(30):
        response_record(
            survey=survey,
            location=LocationFactory(parent=store.parent),
            answers={headline.pk: day % 11},
            language="en",
            created_at=NOW - timedelta(days=day),
        )
    with CaptureQueriesContext(connection) as many:
        selectors.nps_counts_by_month(owner_actor, location=None, since=SINCE)
    assert len(many) == len(few) == 2  # headline questions, then the grouped rollups


# --- the metric selectors behind the API -----------------------------------------------------


def test_metric_questions_pick_one_question_a_survey_or_every_headline(
    owner_actor, other_brand, answered, make_survey
):
    nps_survey, nps_headline, open_question = answered["nps"]
    assert selectors.metric_questions(owner_actor, kind="nps") == [nps_headline.pk]
    assert selectors.metric_questions(owner_actor, kind="nps", survey_id=nps_survey.pk) == [
        nps_headline.pk
    ]
    with pytest.raises(NotFound):
        selectors.metric_questions(owner_actor, kind="csat", survey_id=nps_survey.pk)
    with pytest.raises(AppError) as error:
        selectors.metric_questions(owner_actor, kind="nps", question_id=open_question.pk)
    assert error.value.field == "question"
    _, theirs, _ = make_survey("nps", of_brand=other_brand)
    with pytest.raises(NotFound):
        selectors.metric_questions(owner_actor, kind="nps", question_id=theirs.pk)


def test_metric_groups_by_location_and_week(owner_actor, store, sibling_store, answered):
    questions = selectors.metric_questions(owner_actor, kind="nps")
    groups = selectors.metric_groups(
        owner_actor, questions=questions, by=("location", "week"), since=SINCE
    )
    assert [(g.period, g.location_id, g.n, g.promoters) for g in groups] == [
        (date(2026, 4, 6), sibling_store.pk, 1, 1),
        (date(2026, 5, 18), store.pk, 3, 2),
    ]
    (total,) = selectors.metric_groups(owner_actor, questions=questions)
    assert (total.n, total.passives, total.score_sum) == (5, 0, 32)


@pytest.mark.parametrize("by", [("colour",), ("month", "day")])
def test_metric_groups_refuse_unknown_or_two_time_grains(owner_actor, by):
    with pytest.raises(AppError) as error:
        selectors.metric_groups(owner_actor, questions=[], by=by)
    assert error.value.field == "by"


def test_responses_bulk_loaded_around_the_write_path_are_not_counted_until_a_rebuild(
    brand, owner_actor, store, answered
):
    from opencx.insights.services import rollups_rebuild
    from opencx.surveys.models import Answer

    survey, headline, _ = answered["nps"]
    response = ResponseFactory(survey=survey, location=store, score=10, created_at=NOW)
    Answer.objects.create(response=response, question=headline, score=10)
    assert selectors.nps_counts(owner_actor, location=None, since=SINCE).n == 4
    rollups_rebuild(brand=brand)
    assert selectors.nps_counts(owner_actor, location=None, since=SINCE).n == 5
