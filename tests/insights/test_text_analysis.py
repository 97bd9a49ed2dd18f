"""Text analytics of the feedback store: queued per brand, stored per item, re-run on change."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from opencx.cases.models import Case
from opencx.feedback.models import FeedbackItem, FeedbackTopic
from opencx.feedback.services import (
    FEEDBACK_RECEIVED,
    feedback_from_response,
    survey_comments_backfill,
)
from opencx.insights import facade, text_analysis
from opencx.insights.models import LabelCorrection, TextSettings
from opencx.platform.events import emit
from opencx.surveys.services import response_record
from tests.factories import (
    BrandFactory,
    CaseRuleFactory,
    FeedbackItemFactory,
    LocationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

ANGRY = "The staff were rude and I waited forty minutes in the queue. Terrible, never again."
HAPPY = "Lovely staff, quick checkout, I am very happy with my new shoes."


def _analyse_all(brand):
    return text_analysis.analyse_pending(brand_id=brand.pk, seconds=float("inf"))


def test_items_get_language_sentiment_topics_and_keyphrases():
    brand = BrandFactory(default_language="en", languages=["en", "it"])
    angry = FeedbackItemFactory(brand=brand, text=ANGRY, rating=1)
    happy = FeedbackItemFactory(brand=brand, text=HAPPY, rating=5)
    italian = FeedbackItemFactory(
        brand=brand, text="Il personale è stato molto scortese e abbiamo aspettato troppo."
    )

    assert _analyse_all(brand) == 3

    for item in (angry, happy, italian):
        item.refresh_from_db()
        assert item.analysed_at is not None
        assert item.analysis_version == 1
    assert (angry.language, angry.sentiment) == ("en", "negative")
    assert angry.sentiment_score < 0 < happy.sentiment_score
    assert happy.sentiment == "positive"
    assert italian.language == "it"
    topics = set(FeedbackTopic.objects.filter(item=angry).values_list("topic", flat=True))
    assert {"staff_friendliness", "waiting_time"} <= topics
    assert angry.keyphrases
    # Nothing left: a second run does nothing.
    assert _analyse_all(brand) == 0


def test_new_feedback_queues_one_analysis_task_per_brand():
    brand = BrandFactory()
    location = LocationFactory(brand=brand)
    for n in range(5):
        item = FeedbackItemFactory(brand=brand, location=location, external_id=f"x{n}")
        text_analysis._analyse_new_feedback(feedback_id=item.pk, brand_id=brand.pk)

    queued = DBTaskResult.objects.filter(task_path__endswith="analyse_pending")
    assert queued.count() == 1
    assert TextSettings.objects.get(brand=brand).queued_at is not None
    # The run clears the claim first, so an item arriving during it queues the next run.
    _analyse_all(brand)
    assert TextSettings.objects.get(brand=brand).queued_at is None
    assert not FeedbackItem.objects.filter(brand=brand, analysed_at__isnull=True).exists()


def test_analysis_runs_in_the_background_after_ingestion(
    immediate_tasks, django_capture_on_commit_callbacks
):
    brand = BrandFactory()
    item = FeedbackItemFactory(brand=brand, text=ANGRY)

    with django_capture_on_commit_callbacks(execute=True):
        emit(FEEDBACK_RECEIVED, feedback_id=item.pk, brand_id=brand.pk)
    item.refresh_from_db()
    assert item.sentiment == "negative"


def test_a_changed_setting_analyses_everything_again_but_corrections_stand():
    brand = BrandFactory()
    corrected = FeedbackItemFactory(brand=brand, text=ANGRY)
    plain = FeedbackItemFactory(brand=brand, text=ANGRY)
    _analyse_all(brand)
    LabelCorrection.objects.create(
        brand=brand, item=corrected, field="sentiment", predicted="negative", corrected="neutral"
    )
    LabelCorrection.objects.create(
        brand=brand, item=corrected, field="topics", predicted=[], corrected=["price"]
    )
    FeedbackItem.objects.filter(pk=corrected.pk).update(sentiment="neutral")
    FeedbackTopic.objects.filter(item=corrected).delete()
    FeedbackTopic.objects.create(brand=brand, item=corrected, topic="price")

    settings = text_analysis.text_settings_changed(
        settings=text_analysis.text_settings_stored(brand)
    )
    assert settings.version == 2
    assert text_analysis.pending_items(settings).count() == 2
    assert _analyse_all(brand) == 2

    corrected.refresh_from_db()
    plain.refresh_from_db()
    assert corrected.analysis_version == plain.analysis_version == 2
    assert corrected.sentiment == "neutral"
    assert list(FeedbackTopic.objects.filter(item=corrected).values_list("topic", flat=True)) == [
        "price"
    ]
    assert plain.sentiment == "negative"


def test_a_text_the_model_cannot_take_does_not_hold_up_the_queue(monkeypatch):
    brand = BrandFactory()
    bad = FeedbackItemFactory(brand=brand, text="poison")
    good = FeedbackItemFactory(brand=brand, text=HAPPY)
    real = facade.analyse_texts

    def failing(texts, **options):
        if "poison" in texts:
            raise RuntimeError("engine failure")
        return real(texts, **options)

    monkeypatch.setattr(facade, "analyse_texts", failing)
    assert _analyse_all(brand) == 2
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.analysed_at is not None and bad.sentiment == ""
    assert good.sentiment == "positive"


def test_results_are_remembered_per_text_and_settings(monkeypatch):
    calls = []
    from opencx.analytics import text as library

    real = library.analyze

    def counting(texts, **options):
        calls.append(list(texts))
        return real(texts, **options)

    monkeypatch.setattr(library, "analyze", counting)
    first = facade.analyse_texts(["Unique text about parking 7431", HAPPY], languages=["en"])
    again = facade.analyse_texts(["Unique text about parking 7431"], languages=["en"])
    other = facade.analyse_texts(["Unique text about parking 7431"], languages=["en", "it"])
    assert again[0] == first[0]
    assert other[0].language == "en"
    assert calls[-1] == ["Unique text about parking 7431"]
    assert ["Unique text about parking 7431"] not in calls[1:-1]


def _nps_survey(brand):
    survey = SurveyFactory(brand=brand)
    nps = QuestionFactory(survey=survey, key="nps")
    comment = QuestionFactory(survey=survey, key="why", kind="text", scale_min=None, scale_max=None)
    return survey, nps, comment


def test_survey_comments_join_the_store_once_and_open_no_second_case(
    immediate_tasks, django_capture_on_commit_callbacks
):
    brand = BrandFactory()
    location = LocationFactory(brand=brand)
    CaseRuleFactory(brand=brand, trigger="nps_at_most", threshold=6)
    CaseRuleFactory(brand=brand, trigger="negative_sentiment")
    survey, nps, comment = _nps_survey(brand)

    with django_capture_on_commit_callbacks(execute=True):
        response = response_record(
            survey=survey,
            location=location,
            language="en",
            answers={nps.pk: 2, comment.pk: ANGRY},
        )

    item = FeedbackItem.objects.get(response=response)
    assert (item.kind, item.source, item.text) == ("survey", "survey", ANGRY)
    assert item.location == location
    assert item.sentiment == "negative"
    assert Case.objects.filter(brand=brand).count() == 1
    assert feedback_from_response(response_id=response.pk) == item
    assert FeedbackItem.objects.filter(brand=brand).count() == 1


def test_backfill_stores_earlier_comments_once():
    brand = BrandFactory()
    with_comment = ResponseFactory(survey__brand=brand, comment="Too pricey for what it is.")
    ResponseFactory(survey=with_comment.survey, comment="   ")
    ResponseFactory(survey=with_comment.survey, comment="")
    ResponseFactory(survey=with_comment.survey, comment="Partial", is_partial=True)

    assert survey_comments_backfill(brand_id=brand.pk, chunk=1) == 1
    assert survey_comments_backfill(brand_id=brand.pk) == 0
    item = FeedbackItem.objects.get(brand=brand)
    assert item.response == with_comment
    assert item.external_id == f"response-{with_comment.pk}"


def test_negative_sentiment_opens_a_case_once_analysis_says_so(
    immediate_tasks, django_capture_on_commit_callbacks
):
    brand = BrandFactory()
    CaseRuleFactory(brand=brand, trigger="negative_sentiment")
    angry = FeedbackItemFactory(brand=brand, text=ANGRY, rating=None, rating_scale=None)
    happy = FeedbackItemFactory(brand=brand, text=HAPPY, rating=None, rating_scale=None)
    with django_capture_on_commit_callbacks(execute=True):
        _analyse_all(brand)

    case = Case.objects.get(brand=brand)
    assert case.sources.get().feedback == angry
    assert not Case.objects.filter(sources__feedback=happy).exists()


def test_command_analyses_a_backlog_now(capsys):
    brand = BrandFactory(slug="shop")
    FeedbackItemFactory(brand=brand, text=HAPPY)
    ResponseFactory(survey__brand=brand, comment=ANGRY)

    call_command("analyse_feedback", brand=["shop"], now=True)

    out = capsys.readouterr().out
    assert "Stored 1 survey comments" in out
    assert "shop: analysed 2 items." in out
    assert not FeedbackItem.objects.filter(brand=brand, analysed_at__isnull=True).exists()


def test_command_refuses_an_unknown_brand():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--brand: no brand with slug nope"):
        call_command("analyse_feedback", brand=["nope"])


def test_occurred_at_of_a_survey_comment_is_when_it_was_completed():
    brand = BrandFactory()
    moment = datetime(2026, 3, 1, 9, tzinfo=UTC)
    response = ResponseFactory(survey__brand=brand, comment="ok", completed_at=moment)
    assert feedback_from_response(response_id=response.pk).occurred_at == moment
