"""Label corrections: verdicts shown at once, accuracy against them, and retraining on them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencx.feedback.models import FeedbackTopic
from opencx.insights import corrections
from opencx.insights.corrections import RetrainRefused, label_correct, text_retrain
from opencx.insights.models import LabelCorrection, TextSettings
from opencx.insights.text_analysis import feedback_analyse, text_settings_of
from opencx.platform.errors import AppError, Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from tests.factories import FeedbackItemFactory, FeedbackTopicFactory

pytestmark = pytest.mark.django_db

# A brand's jargon: "florped" means broken in transit; the shipped model cannot know it.
FLORPED = [
    "My parcel arrived florped.",
    "The kettle was florped when I opened the box.",
    "Second time this month the order came florped.",
    "Everything florped again, as usual.",
    "The screen was florped out of the box.",
    "They sent me a florped chair.",
    "My bike came back from the service florped.",
    "The lamp is florped, the shade too.",
    "Half the plates florped in transit.",
    "Got the mixer today, florped.",
    "Ordered a desk, it was florped.",
    "The headphones were florped on arrival.",
]
CONFIRMED = [
    ("Lovely staff and quick delivery.", "positive"),
    ("The shop opens at nine.", "neutral"),
    ("Great value, will buy again.", "positive"),
    ("The parcel came on Tuesday.", "neutral"),
]


def analysed(
    brand, location, text="Friendly staff.", *, sentiment="neutral", language="en", topics=()
):
    item = FeedbackItemFactory(
        brand=brand,
        location=location,
        text=text,
        title="",
        sentiment=sentiment,
        sentiment_score=0.1,
        language=language,
        analysed_at=timezone.now(),
        analysis_version=1,
    )
    for topic in topics:
        FeedbackTopicFactory(item=item, topic=topic)
    return item


@pytest.fixture
def agent(make_actor, store):
    return make_actor(Role.AGENT, store)


# --- label_correct ------------------------------------------------------------------------------


def test_a_sentiment_correction_is_shown_at_once_and_audited(brand, store, agent):
    item = analysed(brand, store, sentiment="neutral")
    correction = label_correct(actor=agent, item=item, field="sentiment", value="negative")
    item.refresh_from_db()
    assert (item.sentiment, item.sentiment_score) == ("negative", -1.0)
    assert (correction.predicted, correction.corrected, correction.language) == (
        "neutral",
        "negative",
        "en",
    )
    assert correction.by == agent.user
    event = AuditEvent.objects.get(action="label.correct")
    assert event.changes == {"sentiment": ["neutral", "negative"]}
    assert "corrected" in event.summary

    # A second verdict replaces the first and keeps what the model said.
    again = label_correct(actor=agent, item=item, field="sentiment", value=" Positive ")
    assert again.pk == correction.pk
    assert (again.predicted, again.corrected) == ("neutral", "positive")
    assert LabelCorrection.objects.count() == 1


def test_a_verdict_equal_to_the_prediction_confirms_it(brand, store, agent):
    item = analysed(brand, store, sentiment="positive")
    correction = label_correct(actor=agent, item=item, field="sentiment", value="positive")
    item.refresh_from_db()
    assert correction.predicted == correction.corrected == "positive"
    assert item.sentiment_score == 0.1  # the model's score stays with a confirmed label
    assert "confirmed" in AuditEvent.objects.get(action="label.correct").summary


def test_topics_are_replaced_by_the_verdict(brand, store, agent):
    item = analysed(brand, store, topics=["waiting_time", "price"])
    correction = label_correct(
        actor=agent, item=item, field="topics", value=["staff_friendliness", "waiting_time"]
    )
    assert correction.predicted == ["price", "waiting_time"]
    assert correction.corrected == ["staff_friendliness", "waiting_time"]
    assert sorted(FeedbackTopic.objects.filter(item=item).values_list("topic", flat=True)) == [
        "staff_friendliness",
        "waiting_time",
    ]
    label_correct(actor=agent, item=item, field="topics", value=[])
    assert not FeedbackTopic.objects.filter(item=item).exists()
    assert LabelCorrection.objects.get().predicted == ["price", "waiting_time"]


@pytest.mark.parametrize(
    ("field", "value", "named", "message"),
    [
        ("mood", "negative", "field", "field must be sentiment or topics"),
        ("sentiment", "angry", "sentiment", "must be one of negative, neutral, positive"),
        ("sentiment", ["negative"], "sentiment", "must be one of"),
        ("topics", ["parking_lot"], "topics", "'parking_lot' is not a topic of this brand"),
        ("topics", "waiting_time", "topics", "a list of topic ids"),
    ],
)
def test_bad_verdicts_are_refused_naming_the_field(
    brand, store, agent, field, value, named, message
):
    item = analysed(brand, store)
    with pytest.raises(AppError, match=message) as refused:
        label_correct(actor=agent, item=item, field=field, value=value)
    assert refused.value.field == named
    assert not LabelCorrection.objects.exists()


def test_an_item_not_yet_analysed_cannot_be_judged(brand, store, agent):
    item = FeedbackItemFactory(brand=brand, location=store)
    with pytest.raises(AppError, match="not been analysed"):
        label_correct(actor=agent, item=item, field="sentiment", value="negative")


def test_who_may_correct(brand, store, sibling_store, make_actor):
    item = analysed(brand, store)
    with pytest.raises(Forbidden):
        label_correct(actor=make_actor(Role.VIEWER), item=item, field="sentiment", value="positive")
    with pytest.raises(NotFound):
        label_correct(
            actor=make_actor(Role.LOCATION_MANAGER, sibling_store),
            item=item,
            field="sentiment",
            value="positive",
        )
    label_correct(
        actor=make_actor(Role.LOCATION_MANAGER, store),
        item=item,
        field="sentiment",
        value="positive",
    )


def test_re_analysis_keeps_the_corrected_labels(brand, store, agent):
    settings_, _ = TextSettings.objects.update_or_create(brand=brand, defaults={"mode": "fast"})
    item = analysed(brand, store, "The staff were lovely, thank you!", sentiment="positive")
    label_correct(actor=agent, item=item, field="sentiment", value="neutral")
    label_correct(actor=agent, item=item, field="topics", value=["price"])
    feedback_analyse(item_ids=[item.pk], settings=settings_)
    item.refresh_from_db()
    assert item.sentiment == "neutral"
    assert list(FeedbackTopic.objects.filter(item=item).values_list("topic", flat=True)) == [
        "price"
    ]


# --- accuracy -----------------------------------------------------------------------------------


def test_sentiment_accuracy_by_language_label_and_retraining(
    brand, store, sibling_store, owner_actor, make_actor
):
    verdicts = [
        ("en", "negative", "negative"),
        ("en", "neutral", "negative"),
        ("en", "positive", "positive"),
        ("it", "neutral", "neutral"),
        ("it", "positive", "negative"),
    ]
    for language, predicted, corrected in verdicts:
        item = analysed(brand, store, sentiment=predicted, language=language)
        label_correct(actor=owner_actor, item=item, field="sentiment", value=corrected)
    far = analysed(brand, sibling_store, sentiment="neutral", language="en")
    label_correct(actor=owner_actor, item=far, field="sentiment", value="neutral")

    found = corrections.label_accuracy(owner_actor).sentiment
    assert (found.overall.n, round(found.overall.value, 1)) == (6, 66.7)
    assert found.overall.ci_low < found.overall.value < found.overall.ci_high
    assert {lang: (s.n, round(s.value)) for lang, s in found.by_language} == {
        "en": (4, 75),
        "it": (2, 50),
    }
    # rows: the model's label; columns: the person's
    assert found.confusion == ((1, 0, 0), (1, 2, 0), (1, 0, 1))
    negative = found.by_label[0]
    assert (negative.precision.n, negative.precision.value) == (1, 100.0)
    assert (negative.recall.n, round(negative.recall.value, 1)) == (3, 33.3)
    assert found.before_retrain is None

    # A manager of the other store sees the verdicts on their items only.
    theirs = corrections.label_accuracy(make_actor(Role.LOCATION_MANAGER, sibling_store))
    assert (theirs.sentiment.overall.n, theirs.sentiment.overall.value) == (1, 100.0)

    # Before/after the latest retraining, split at the moment it was trained.
    LabelCorrection.objects.filter(item=far).update(at=timezone.now() + timedelta(hours=1))
    TextSettings.objects.update_or_create(
        brand=brand, defaults={"adapter_trained_at": timezone.now()}
    )
    found = corrections.label_accuracy(owner_actor).sentiment
    assert (found.before_retrain.n, found.before_retrain.value) == (5, 60.0)
    assert (found.after_retrain.n, found.after_retrain.value) == (1, 100.0)


def test_topic_accuracy_exact_match_and_per_topic(brand, store, owner_actor):
    cases = [
        (["price"], ["price"]),
        (["price", "waiting_time"], ["waiting_time"]),
        ([], ["staff_friendliness"]),
    ]
    for predicted, corrected in cases:
        item = analysed(brand, store, topics=predicted)
        label_correct(actor=owner_actor, item=item, field="topics", value=corrected)
    found = corrections.label_accuracy(owner_actor).topics
    assert (found.exact.n, round(found.exact.value, 1)) == (3, 33.3)
    rows = {row.topic: row for row in found.by_topic}
    assert (rows["price"].precision.n, rows["price"].precision.value) == (2, 50.0)
    assert (rows["price"].recall.n, rows["price"].recall.value) == (1, 100.0)
    assert (rows["waiting_time"].precision.value, rows["waiting_time"].recall.value) == (
        100.0,
        100.0,
    )
    assert rows["staff_friendliness"].precision.n == 0
    assert rows["staff_friendliness"].precision.value is None
    assert rows["staff_friendliness"].recall.value == 0.0
    assert rows["price"].name != "price"  # the taxonomy's name


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(corrections.SENTIMENTS), st.sampled_from(corrections.SENTIMENTS)),
        max_size=12,
    )
)
def test_the_confusion_matrix_adds_up(brand, store, owner_actor, pairs):
    LabelCorrection.objects.all().delete()
    for predicted, corrected in pairs:
        item = analysed(brand, store, sentiment=predicted)
        LabelCorrection.objects.create(
            brand=brand, item=item, field="sentiment", predicted=predicted, corrected=corrected
        )
    found = corrections.sentiment_accuracy(owner_actor)
    assert sum(map(sum, found.confusion)) == found.overall.n == len(pairs)
    agreeing = sum(found.confusion[k][k] for k in range(3))
    assert agreeing == sum(1 for p, c in pairs if p == c)
    for k, row in enumerate(found.by_label):
        assert row.precision.n == sum(found.confusion[k])
        assert row.recall.n == sum(r[k] for r in found.confusion)


# --- retraining ---------------------------------------------------------------------------------


def _verdicts(brand, store, actor, texts_and_labels):
    for text, label in texts_and_labels:
        item = analysed(brand, store, text, sentiment="neutral")
        label_correct(actor=actor, item=item, field="sentiment", value=label)


def test_retraining_needs_enough_verdicts_of_two_labels(brand, store, owner_actor):
    _verdicts(brand, store, owner_actor, [(text, "negative") for text in FLORPED[:9]])
    with pytest.raises(RetrainRefused, match="at least 10 sentiment verdicts; this brand has 9"):
        text_retrain(brand=brand, actor=owner_actor)
    _verdicts(brand, store, owner_actor, [(FLORPED[9], "negative")])
    with pytest.raises(RetrainRefused, match="Every sentiment verdict says negative"):
        text_retrain(brand=brand, actor=owner_actor)
    assert text_settings_of(brand).adapter is None


def test_who_may_retrain(brand, store, make_actor):
    for role, location, error in [
        (Role.AGENT, None, Forbidden),
        (Role.CX_MANAGER, store, NotFound),  # may manage feedback, but not brand-wide
    ]:
        with pytest.raises(error):
            text_retrain(brand=brand, actor=make_actor(role, location))


def test_retraining_adapts_the_brand_and_analyses_its_comments_again(
    brand, store, owner_actor, django_capture_on_commit_callbacks
):
    TextSettings.objects.update_or_create(brand=brand, defaults={"mode": "fast"})
    version = text_settings_of(brand).version
    _verdicts(brand, store, owner_actor, [(text, "negative") for text in FLORPED] + CONFIRMED)
    with django_capture_on_commit_callbacks() as queued:
        result = text_retrain(brand=brand, actor=owner_actor)
    assert queued  # the re-analysis of the brand's comments
    assert result.examples == 16
    assert result.classes == {"negative": 12, "positive": 2, "neutral": 2}
    assert result.after.value > result.before.value
    assert result.cross_validated is None  # fewer than 20: none held out
    settings_ = text_settings_of(brand)
    assert settings_.version == result.version == version + 1
    assert settings_.adapter_examples == 16
    assert settings_.adapter_trained_at == result.trained_at
    assert settings_.adapter["mode"] == "fast" and settings_.adapter["examples"] == 16
    event = AuditEvent.objects.get(action="text.retrain")
    assert event.actor == owner_actor.user and "16 verdicts" in event.summary

    # A new comment in the brand's jargon is now read as negative.
    new = FeedbackItemFactory(
        brand=brand, location=store, title="", text="The blender arrived florped."
    )
    feedback_analyse(item_ids=[new.pk], settings=settings_)
    new.refresh_from_db()
    assert new.sentiment == "negative"
