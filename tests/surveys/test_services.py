import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from opencx.insights.models import ResponseRollup
from opencx.platform import events
from opencx.platform.errors import AppError, Conflict, Forbidden
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from opencx.surveys.definitions import SurveySpec, library, parse_definition, spec_of
from opencx.surveys.models import Answer, Question, Response, Survey
from opencx.surveys.services import (
    RESPONSE_ABANDONED,
    RESPONSE_COMPLETED,
    response_record,
    response_update,
    responses_abandon_stale,
    survey_create_from_template,
    survey_import,
)
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    LocationFactory,
    QuestionFactory,
    SurveyFactory,
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


def test_a_complete_response_emits_response_completed_after_commit(
    store, make_survey, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(events, "_handlers", defaultdict(list))
    seen = []
    events.subscribe(RESPONSE_COMPLETED)(lambda **payload: seen.append(payload))
    survey, nps, _ = make_survey("nps")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = record(survey, store, {nps.pk: 10})
        assert seen == []  # not before the commit

    assert len(callbacks) == 1
    assert seen == [{"response_id": response.pk, "brand_id": survey.brand_id}]


def test_a_partial_response_emits_nothing_until_it_is_completed(
    store, make_survey, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(events, "_handlers", defaultdict(list))
    seen = []
    events.subscribe(RESPONSE_COMPLETED)(lambda **payload: seen.append(payload))
    survey, nps, _ = make_survey("nps")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = record(survey, store, {nps.pk: 3}, is_partial=True)
    assert (callbacks, seen) == ([], [])

    with django_capture_on_commit_callbacks(execute=True):
        response_update(response=response, answers={}, complete=True)
    assert seen == [{"response_id": response.pk, "brand_id": survey.brand_id}]


def test_a_partial_response_left_alone_is_abandoned_once_and_says_so(
    store, make_survey, monkeypatch, settings, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(events, "_handlers", defaultdict(list))
    abandoned, completed = [], []
    events.subscribe(RESPONSE_ABANDONED)(lambda **payload: abandoned.append(payload))
    events.subscribe(RESPONSE_COMPLETED)(lambda **payload: completed.append(payload))
    settings.SURVEY_ABANDON_MINUTES = 60
    survey, nps, _ = make_survey("nps")
    left = record(survey, store, {nps.pk: 2}, is_partial=True)
    still_going = record(survey, store, {nps.pk: 9}, is_partial=True)
    finished = record(survey, store, {nps.pk: 1})
    now = datetime.now(UTC)
    Response.objects.filter(pk__in=[left.pk, finished.pk]).update(
        updated_at=now - timedelta(minutes=61)
    )
    Response.objects.filter(pk=still_going.pk).update(updated_at=now - timedelta(minutes=59))

    with django_capture_on_commit_callbacks(execute=True):
        assert responses_abandon_stale() == 1
        assert responses_abandon_stale() == 0  # once

    assert abandoned == [{"response_id": left.pk, "brand_id": survey.brand_id}] and not completed
    left.refresh_from_db()
    assert left.is_partial and left.abandoned_at is not None  # kept as the respondent left it
    assert Response.objects.get(pk=still_going.pk).abandoned_at is None
    assert Response.objects.get(pk=finished.pk).abandoned_at is None

    # The respondent comes back and finishes it: complete, as any other.
    with django_capture_on_commit_callbacks(execute=True):
        response_update(response=left, answers={}, complete=True)
    assert completed == [{"response_id": left.pk, "brand_id": survey.brand_id}]


def test_no_partial_response_is_abandoned_when_the_setting_is_zero(store, make_survey, settings):
    settings.SURVEY_ABANDON_MINUTES = 0
    survey, nps, _ = make_survey("nps")
    left = record(survey, store, {nps.pk: 2}, is_partial=True)
    Response.objects.filter(pk=left.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert responses_abandon_stale() == 0
    assert Response.objects.get(pk=left.pk).abandoned_at is None


# --- survey_import: definitions written through one path ------------------------------------


def _spec(**changes) -> SurveySpec:
    """The shipped NPS template under the slug "visit", with `changes` to its document."""
    document = library()["nps"].model_dump(exclude_none=True) | {"slug": "visit"}
    document.update(changes)
    return SurveySpec.model_validate(document)


def _questions(survey):
    return list(survey.questions.order_by("position").values_list("key", "kind"))


def test_import_creates_the_survey_with_its_questions_in_order_and_audits_it(owner_actor):
    survey = survey_import(actor=owner_actor, spec=_spec())

    assert (survey.slug, survey.kind, survey.review_invite_min) == ("visit", "nps", 9)
    assert _questions(survey) == [
        ("nps", "nps"),
        ("went_wrong", "text"),
        ("improve", "text"),
        ("loved", "text"),
        ("contact_ok", "consent"),
    ]
    nps = survey.questions.get(key="nps")
    assert (nps.scale_min, nps.scale_max, nps.satisfied_values) == (0, 10, [9, 10])
    assert survey.questions.get(key="went_wrong").show_if == {"question": "nps", "min": 0, "max": 6}
    event = AuditEvent.objects.get(action="survey.create")
    assert (event.actor, event.object_id) == (owner_actor.user, str(survey.pk))


def test_import_again_updates_the_survey_with_that_slug(owner_actor):
    first = survey_import(actor=owner_actor, spec=_spec())
    document = spec_of(first)
    document["name"] = "Store visit"
    document["questions"] = document["questions"][:1]

    second = survey_import(actor=owner_actor, spec=SurveySpec.model_validate(document))

    assert second.pk == first.pk
    assert Survey.objects.filter(brand=owner_actor.brand).count() == 1
    assert second.name == "Store visit"
    assert _questions(second) == [("nps", "nps")]
    assert AuditEvent.objects.filter(action="survey.update").count() == 1


def test_a_survey_with_the_same_slug_in_another_brand_is_not_touched(owner_actor, other_brand):
    theirs = SurveyFactory(brand=other_brand, slug="visit", name="Theirs")
    mine = survey_import(actor=owner_actor, spec=_spec())
    theirs.refresh_from_db()
    assert mine.pk != theirs.pk and theirs.name == "Theirs"


def _answered(survey, store):
    nps = survey.questions.get(key="nps")
    record(survey, store, {nps.pk: 3})
    return nps


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"kind": "csat", "scale": [1, 5], "satisfied": [4, 5], "scale_labels": {}},
            "questions.nps.kind",
        ),
        ({"satisfied": [8, 9, 10]}, "questions.nps.satisfied_values"),
        ({"polarity": "lower_better"}, "questions.nps.polarity"),
    ],
)
def test_an_answered_question_keeps_its_meaning(owner_actor, store, change, field):
    survey = survey_import(actor=owner_actor, spec=_spec(kind="custom"))
    _answered(survey, store)
    document = spec_of(survey) | {"kind": "custom"}
    document["questions"][0] = document["questions"][0] | change

    with pytest.raises(Conflict) as caught:
        survey_import(actor=owner_actor, spec=SurveySpec.model_validate(document))

    assert caught.value.field == field
    nps = survey.questions.get(key="nps")
    assert (nps.kind, nps.satisfied_values, nps.polarity) == ("nps", [9, 10], "higher_better")


def test_an_answered_choice_question_keeps_its_options(owner_actor, store):
    spec = library()["post-purchase"].model_copy(update={"slug": "after"})
    survey = survey_import(actor=owner_actor, spec=spec)
    nps, choice = survey.questions.get(key="nps"), survey.questions.get(key="mattered_most")
    record(survey, store, {nps.pk: 9, choice.pk: ["price"]})
    document = spec_of(survey)
    document["questions"][1]["options"] = document["questions"][1]["options"][:2]

    with pytest.raises(Conflict) as caught:
        survey_import(actor=owner_actor, spec=SurveySpec.model_validate(document))

    assert caught.value.field == "questions.mattered_most.options"
    assert len(survey.questions.get(key="mattered_most").options) == 5


def test_an_answered_question_may_still_change_its_texts_and_branching_order(owner_actor, store):
    survey = survey_import(actor=owner_actor, spec=_spec())
    _answered(survey, store)
    document = spec_of(survey)
    document["questions"][0]["text"]["en"] = "Would you recommend our shop?"
    document["questions"][0]["required"] = False

    survey = survey_import(actor=owner_actor, spec=SurveySpec.model_validate(document))

    nps = survey.questions.get(key="nps")
    assert (nps.text["en"], nps.required) == ("Would you recommend our shop?", False)
    assert Answer.objects.filter(question=nps).count() == 1


def test_an_answered_question_cannot_be_removed_but_an_unanswered_one_can(owner_actor, store):
    survey = survey_import(actor=owner_actor, spec=_spec(kind="custom"))
    _answered(survey, store)
    document = spec_of(survey)
    without_nps = [q for q in document["questions"] if q["key"] not in {"nps"}]
    without_nps = [q | {"show_if": None} for q in without_nps]

    with pytest.raises(Conflict) as caught:
        survey_import(
            actor=owner_actor,
            spec=SurveySpec.model_validate(document | {"questions": without_nps}),
        )
    assert caught.value.field == "questions.nps"
    assert survey.questions.count() == 5

    fewer = [q for q in document["questions"] if q["key"] != "loved"]
    survey_import(
        actor=owner_actor, spec=SurveySpec.model_validate(document | {"questions": fewer})
    )
    assert not survey.questions.filter(key="loved").exists()


@pytest.mark.parametrize(
    "show_if",
    [
        {"question": "contact_ok", "min": 0, "max": 1},  # not a scored question
        {"question": "nowhere", "min": 0, "max": 6},  # no such question
    ],
)
def test_branching_must_refer_to_an_earlier_scored_question(show_if):
    document = _spec().model_dump(exclude_none=True)
    document["questions"][1]["show_if"] = show_if
    with pytest.raises(ValueError, match="must be an earlier scored question"):
        SurveySpec.model_validate(document)


def test_branching_on_a_later_question_is_refused_with_its_field(owner_actor):
    document = _spec().model_dump(exclude_none=True)
    document["questions"] = [*document["questions"][1:], document["questions"][0]]
    text = json.dumps(document)
    with pytest.raises(AppError, match="earlier scored question"):
        parse_definition(text, source="visit.json")
    assert not Survey.objects.exists()


def test_members_without_manage_feedback_cannot_import(make_actor):
    for role in (Role.VIEWER, Role.AGENT, Role.LOCATION_MANAGER):
        with pytest.raises(Forbidden):
            survey_import(actor=make_actor(role), spec=_spec())
    assert not Survey.objects.exists()


def test_a_cx_manager_may_import(make_actor):
    survey = survey_import(actor=make_actor(Role.CX_MANAGER), spec=_spec())
    assert survey.questions.count() == 5


def test_the_touchpoint_is_named_by_its_key(owner_actor, brand):
    TouchpointFactory(brand=brand, key="store", name="Store")
    survey = survey_import(actor=owner_actor, spec=_spec(touchpoint="store"))
    assert survey.touchpoint.key == "store"
    with pytest.raises(AppError) as caught:
        survey_import(actor=owner_actor, spec=_spec(touchpoint="moon"))
    assert caught.value.field == "touchpoint"


def test_a_survey_from_a_template_gets_a_free_slug(owner_actor):
    first = survey_create_from_template(actor=owner_actor, template="csat-support", name="")
    second = survey_create_from_template(actor=owner_actor, template="csat-support", name="")

    assert (first.slug, second.slug) == ("csat-after-support", "csat-after-support-2")
    assert first.template == "csat-support" and first.name == "CSAT after support"
    csat = first.questions.get(key="csat")
    assert (csat.kind, csat.scale_min, csat.scale_max, csat.satisfied_values) == (
        "csat",
        1,
        5,
        [4, 5],
    )
    assert csat.scale_labels["1"]["cy"] == "Anfodlon iawn"


def test_an_unknown_template_is_refused(owner_actor):
    with pytest.raises(AppError) as caught:
        survey_create_from_template(actor=owner_actor, template="nope")
    assert caught.value.field == "template"


def test_every_template_can_be_made_into_a_survey(owner_actor):
    for slug in library():
        survey = survey_create_from_template(actor=owner_actor, template=slug)
        assert survey.questions.count() == len(library()[slug].questions)
        assert all(set(q.text) == set(survey.all_languages) for q in survey.questions.all())
    assert Question.objects.filter(survey__brand=owner_actor.brand, kind="ces").get().polarity == (
        "higher_better"
    )
