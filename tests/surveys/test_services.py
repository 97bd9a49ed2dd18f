from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from opencx.insights.models import ResponseRollup
from opencx.platform import events
from opencx.platform.errors import AppError
from opencx.surveys.models import Answer, Response
from opencx.surveys.services import RESPONSE_RECORDED, response_record
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    LocationFactory,
    QuestionFactory,
    TouchpointFactory,
)

pytestmark = pytest.mark.django_db
MOMENT = datetime(2026, 3, 10, 12, tzinfo=UTC)


def record(survey, location, answers, **extra):
    extra.setdefault("language", "it")
    extra.setdefault("created_at", MOMENT)
    return response_record(survey=survey, location=location, answers=answers, **extra)


def test_records_the_response_its_answers_and_the_headline_copy(brand, store, make_survey):
    survey, nps, open_question = make_survey("nps")
    touchpoint = TouchpointFactory(brand=brand)
    channel = ChannelFactory(brand=brand)
    contact = ContactFactory(brand=brand)

    response = record(
        survey,
        store,
        {nps.pk: 9, open_question.pk: "  Great staff "},
        touchpoint=touchpoint,
        channel=channel,
        contact=contact,
    )

    response.refresh_from_db()
    assert (response.score, response.comment, response.language) == (9, "Great staff", "it")
    assert (response.touchpoint, response.channel, response.contact) == (
        touchpoint,
        channel,
        contact,
    )
    assert (response.created_at, response.completed_at, response.is_partial) == (
        MOMENT,
        MOMENT,
        False,
    )
    answers = {a.question_id: (a.score, a.text) for a in Answer.objects.filter(response=response)}
    assert answers == {nps.pk: (9, ""), open_question.pk: (None, "Great staff")}


def test_scores_go_into_the_rollups_in_the_same_write(brand, store, make_survey):
    survey, nps, _ = make_survey("nps")
    channel = ChannelFactory(brand=brand)
    for score in (10, 8, 3):
        record(survey, store, {nps.pk: score}, channel=channel)

    row = ResponseRollup.objects.get()
    assert (row.brand, row.survey, row.question, row.location) == (brand, survey, nps, store)
    assert (row.touchpoint_key, row.channel_key, row.channel_id) == (0, channel.pk, channel.pk)
    assert (row.n, row.promoters, row.passives, row.detractors, row.satisfied) == (3, 1, 1, 1, 1)
    assert (row.score_sum, row.score_sq_sum) == (21, 100 + 64 + 9)


def test_the_rollup_day_is_the_day_in_the_location_time_zone(brand, region, make_survey):
    rome = LocationFactory(parent=region, timezone="Europe/Rome")
    new_york = LocationFactory(parent=region, timezone="America/New_York")
    survey, nps, _ = make_survey("nps")
    late_evening_utc = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)

    record(survey, rome, {nps.pk: 9}, created_at=late_evening_utc)
    record(survey, new_york, {nps.pk: 9}, created_at=late_evening_utc)

    days = dict(ResponseRollup.objects.values_list("location_id", "day"))
    assert days == {rome.pk: date(2026, 3, 2), new_york.pk: date(2026, 3, 1)}


def test_satisfied_uses_the_question_stored_set_not_an_assumed_scale(store, make_survey):
    survey, ces, _ = make_survey("ces", satisfied=[1, 2])  # a lower-is-better scale
    for score in (1, 2, 7):
        record(survey, store, {ces.pk: score})

    row = ResponseRollup.objects.get()
    assert (row.n, row.satisfied, row.promoters, row.detractors) == (3, 2, 0, 0)


@pytest.mark.parametrize(
    "value, message",
    [(11, "from 0 to 10"), (-1, "from 0 to 10"), (True, "whole number"), ("9", "whole number")],
)
def test_a_score_outside_the_scale_names_the_question_and_writes_nothing(
    store, make_survey, value, message
):
    survey, nps, _ = make_survey("nps")

    with pytest.raises(AppError, match=message) as error:
        record(survey, store, {nps.pk: value})

    assert error.value.field == f"answers.{nps.pk}"
    assert not Response.objects.exists()
    assert not ResponseRollup.objects.exists()


def test_an_open_question_takes_only_text(store, make_survey):
    survey, nps, open_question = make_survey("nps")
    with pytest.raises(AppError) as error:
        record(survey, store, {nps.pk: 9, open_question.pk: 5})
    assert error.value.field == f"answers.{open_question.pk}"


def test_a_question_of_another_survey_is_refused(store, make_survey):
    survey, nps, _ = make_survey("nps")
    _, stranger_question, _ = make_survey("csat")
    with pytest.raises(AppError) as error:
        record(survey, store, {nps.pk: 9, stranger_question.pk: 4})
    assert error.value.field == f"answers.{stranger_question.pk}"


def test_a_required_question_may_be_missing_only_from_a_partial_response(store, make_survey):
    survey, nps, open_question = make_survey("nps")
    with pytest.raises(AppError) as error:
        record(survey, store, {open_question.pk: "No score"})
    assert error.value.field == f"answers.{nps.pk}"

    partial = record(survey, store, {open_question.pk: "No score"}, is_partial=True)

    assert (partial.is_partial, partial.completed_at, partial.score) == (True, None, None)
    assert not ResponseRollup.objects.exists()  # nothing scored, nothing counted


def test_an_empty_response_is_refused(store, make_survey):
    survey, _, open_question = make_survey("nps")
    with pytest.raises(AppError) as error:
        record(survey, store, {open_question.pk: "   "}, is_partial=True)
    assert error.value.field == "answers"


def test_a_scaled_question_without_bounds_cannot_be_scored(store, make_survey):
    survey, _, _ = make_survey("nps")
    rating = QuestionFactory(survey=survey, kind="rating", scale_min=None, scale_max=None)
    with pytest.raises(AppError, match="no scale") as error:
        record(survey, store, {rating.pk: 3}, is_partial=True)
    assert error.value.field == f"answers.{rating.pk}"


def test_objects_of_another_brand_are_refused(brand, store, other_brand, make_survey):
    survey, nps, _ = make_survey("nps")
    elsewhere = LocationFactory(brand=other_brand)
    with pytest.raises(AppError) as error:
        record(survey, elsewhere, {nps.pk: 9})
    assert error.value.field == "location"
    with pytest.raises(AppError) as error:
        record(survey, store, {nps.pk: 9}, channel=ChannelFactory(brand=other_brand))
    assert error.value.field == "channel"


def test_language_is_required(store, make_survey):
    survey, nps, _ = make_survey("nps")
    with pytest.raises(AppError) as error:
        record(survey, store, {nps.pk: 9}, language="")
    assert error.value.field == "language"


def test_response_recorded_is_emitted_after_commit(
    store, make_survey, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(events, "_handlers", defaultdict(list))
    seen = []
    events.subscribe(RESPONSE_RECORDED)(lambda **payload: seen.append(payload))
    survey, nps, _ = make_survey("nps")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = record(survey, store, {nps.pk: 10})
        assert seen == []  # not before the commit

    assert len(callbacks) == 1
    assert seen == [{"response_id": response.pk, "brand_id": survey.brand_id}]
