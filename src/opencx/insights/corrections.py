"""People's verdicts on analysed labels: corrections, the brand's accuracy, and retraining.

- `label_correct` records a verdict on an item's sentiment or topics (`LabelCorrection`, one
  per item and field: a later verdict replaces the earlier one but keeps what the model said)
  and shows it at once: the item's sentiment, or its topic rows. Re-analysis leaves a corrected
  label alone (`text_analysis.feedback_analyse`). A verdict equal to the prediction is a
  confirmation; both count towards accuracy and both are examples for retraining.
- The accuracy selectors measure the model against these verdicts: the share of verdicts that
  agree, with its 95 % interval, by language, by label (a confusion matrix) and before/after
  the latest retraining; for topics, the exact-match share and each topic's precision/recall.
  They are biased towards what people chose to look at (often what looked wrong), so they are
  a floor on accuracy rather than an estimate of it.
- `text_retrain` fits the brand's sentiment adapter (`opencx.analytics.text.adapt`) on its
  sentiment verdicts and re-analyses the stored items with it.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from opencx.analytics.result import Score
from opencx.feedback.models import FeedbackItem, FeedbackTopic
from opencx.feedback.selectors import feedback_get, feedback_visible_to
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.models import Brand
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from . import facade
from .models import LabelCorrection, TextSettings
from .text_analysis import (
    taxonomy_of,
    text_settings_changed,
    text_settings_of,
    text_settings_stored,
    topic_names,
)

SENTIMENTS = ("negative", "neutral", "positive")
# A person's sentiment label shown with the score at its end of the scale (score: P(pos) − P(neg)).
LABEL_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
MIN_RETRAIN_EXAMPLES = 10
MAX_RETRAIN_EXAMPLES = 5000  # the most recent; embedding them takes minutes in the default mode
CAN_CORRECT = Capability.REPLY  # whoever works the feedback (agents included), not viewers
CAN_RETRAIN = Capability.MANAGE_FEEDBACK  # like the brand's other text settings


class RetrainRefused(AppError):
    """Too few corrections, or all of one label: nothing a model could learn from."""


def may_retrain(actor: Actor) -> bool:
    return actor.is_brand_wide and actor.can(CAN_RETRAIN)


# --- corrections --------------------------------------------------------------------------------


def _clean_sentiment(value) -> str:
    label = value.strip().lower() if isinstance(value, str) else value
    if label not in SENTIMENTS:
        raise AppError(f"sentiment must be one of {', '.join(SENTIMENTS)}.", field="sentiment")
    return label


def _clean_topics(value, settings: TextSettings) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise AppError("topics must be a list of topic ids.", field="topics")
    known = {topic["id"] for topic in taxonomy_of(settings)}
    chosen = set()
    for topic in value:
        if not isinstance(topic, str) or topic not in known:
            raise AppError(f"topics: {topic!r} is not a topic of this brand.", field="topics")
        chosen.add(topic)
    return sorted(chosen)


def item_topics(item: FeedbackItem) -> list[str]:
    return sorted(FeedbackTopic.objects.filter(item=item).values_list("topic", flat=True))


@transaction.atomic
def label_correct(*, actor: Actor, item: FeedbackItem, field: str, value) -> LabelCorrection:
    """Record a person's verdict on the item's `field` ("sentiment": a label; "topics": topic
    ids of the brand's taxonomy) and show it on the item."""
    item = feedback_get(actor, pk=item.pk)
    actor.require(CAN_CORRECT)
    if field not in LabelCorrection.Field.values:
        raise AppError("field must be sentiment or topics.", field="field")
    if item.analysed_at is None:
        raise AppError("This feedback has not been analysed yet.", field=field)
    settings = text_settings_of(item.brand_id)
    existing = LabelCorrection.objects.select_for_update().filter(item=item, field=field).first()
    if field == LabelCorrection.Field.SENTIMENT:
        if not item.sentiment and existing is None:
            raise AppError("This feedback has no sentiment to judge (no text).", field=field)
        corrected = _clean_sentiment(value)
        shown = item.sentiment
        if corrected != shown:
            item.sentiment = corrected
            item.sentiment_score = LABEL_SCORE[corrected]
            item.save(update_fields=["sentiment", "sentiment_score"])
    else:
        corrected = _clean_topics(value, settings)
        shown = item_topics(item)
        FeedbackTopic.objects.filter(item=item).exclude(topic__in=corrected).delete()
        FeedbackTopic.objects.bulk_create(
            [FeedbackTopic(brand_id=item.brand_id, item=item, topic=t) for t in corrected],
            ignore_conflicts=True,
        )
    predicted = existing.predicted if existing is not None else shown
    correction = existing or LabelCorrection(brand_id=item.brand_id, item=item, field=field)
    correction.predicted = predicted
    correction.corrected = corrected
    correction.language = item.language
    correction.by = actor.user
    correction.at = timezone.now()
    correction.save()
    verdict = "confirmed" if corrected == predicted else "corrected"
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="label.correct",
        obj=correction,
        summary=f"{field.capitalize()} of feedback {item.pk} {verdict}: {_shown(corrected)}",
        changes={field: [_shown(shown), _shown(corrected)]},
    )
    return correction


def _shown(label) -> str:
    return ", ".join(label) or "none" if isinstance(label, list) else str(label)


def corrections_visible_to(actor: Actor) -> QuerySet[LabelCorrection]:
    """Verdicts on the items the actor may see."""
    return LabelCorrection.objects.filter(
        brand=actor.brand, item__in=feedback_visible_to(actor).values("pk")
    )


@dataclass(frozen=True)
class ItemLabels:
    """What the correction panel shows for one item."""

    item: FeedbackItem
    sentiment: str
    topics: tuple[tuple[str, str, bool], ...]  # (id, name, on the item) for each topic
    sentiment_verdict: LabelCorrection | None
    topics_verdict: LabelCorrection | None
    topic_names: dict[str, str]
    can_correct: bool


def item_labels(actor: Actor, *, pk: int) -> ItemLabels:
    item = feedback_get(actor, pk=pk)
    settings = text_settings_of(item.brand_id)
    names = topic_names(settings)
    current = set(item_topics(item))
    verdicts = {c.field: c for c in LabelCorrection.objects.filter(item=item).select_related("by")}
    # A topic that left the taxonomy still shows while the item has it.
    names.update({topic: topic for topic in current if topic not in names})
    return ItemLabels(
        item=item,
        sentiment=item.sentiment,
        topics=tuple((topic, name, topic in current) for topic, name in names.items()),
        sentiment_verdict=verdicts.get(LabelCorrection.Field.SENTIMENT),
        topics_verdict=verdicts.get(LabelCorrection.Field.TOPICS),
        topic_names=names,
        can_correct=actor.can(CAN_CORRECT) and item.analysed_at is not None,
    )


# --- accuracy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRow:
    label: str
    precision: Score  # of the model's calls of this label, the share people agreed with
    recall: Score  # of the people's labels, the share the model had called


@dataclass(frozen=True)
class SentimentAccuracy:
    overall: Score
    by_language: tuple[tuple[str, Score], ...]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: the model's label; columns: the person's
    by_label: tuple[LabelRow, ...]
    before_retrain: Score | None  # verdicts before / after the latest retraining
    after_retrain: Score | None


@dataclass(frozen=True)
class TopicRow:
    topic: str
    name: str
    precision: Score
    recall: Score


@dataclass(frozen=True)
class TopicAccuracy:
    exact: Score  # verdicts whose topics were exactly the model's
    by_topic: tuple[TopicRow, ...]


@dataclass(frozen=True)
class Accuracy:
    sentiment: SentimentAccuracy
    topics: TopicAccuracy
    trained_at: datetime | None
    adapter_examples: int
    mode: str


def _share(pairs: Iterable[tuple]) -> Score:
    pairs = list(pairs)
    return facade.share_score(n=len(pairs), satisfied=sum(1 for p, c in pairs if p == c))


def sentiment_accuracy(actor: Actor, *, trained_at: datetime | None = None) -> SentimentAccuracy:
    rows = list(
        corrections_visible_to(actor)
        .filter(field=LabelCorrection.Field.SENTIMENT)
        .values_list("predicted", "corrected", "language", "at")
    )
    pairs = [(p, c) for p, c, _, _ in rows if p in SENTIMENTS and c in SENTIMENTS]
    languages = sorted({lang for *_, lang, _ in rows})
    by_language = tuple(
        (lang or "unknown", _share((p, c) for p, c, la, _ in rows if la == lang))
        for lang in languages
    )
    counts = Counter(pairs)
    confusion = tuple(tuple(counts[(p, c)] for c in SENTIMENTS) for p in SENTIMENTS)
    by_label = []
    for k, label in enumerate(SENTIMENTS):
        hits = confusion[k][k]
        called = sum(confusion[k])
        given = sum(row[k] for row in confusion)
        by_label.append(
            LabelRow(
                label=label,
                precision=facade.share_score(n=called, satisfied=hits),
                recall=facade.share_score(n=given, satisfied=hits),
            )
        )
    before = after = None
    if trained_at is not None:
        before = _share((p, c) for p, c, _, at in rows if at < trained_at)
        after = _share((p, c) for p, c, _, at in rows if at >= trained_at)
    return SentimentAccuracy(
        overall=_share(pairs),
        by_language=by_language,
        labels=SENTIMENTS,
        confusion=confusion,
        by_label=tuple(by_label),
        before_retrain=before,
        after_retrain=after,
    )


def topic_accuracy(actor: Actor, *, names: dict[str, str]) -> TopicAccuracy:
    rows = [
        (set(p or []), set(c or []))
        for p, c in corrections_visible_to(actor)
        .filter(field=LabelCorrection.Field.TOPICS)
        .values_list("predicted", "corrected")
    ]
    seen = {topic for p, c in rows for topic in p | c}
    ordered = [t for t in names if t in seen] + sorted(seen - set(names))
    by_topic = tuple(
        TopicRow(
            topic=topic,
            name=names.get(topic, topic),
            precision=facade.share_score(
                n=sum(1 for p, _ in rows if topic in p),
                satisfied=sum(1 for p, c in rows if topic in p and topic in c),
            ),
            recall=facade.share_score(
                n=sum(1 for _, c in rows if topic in c),
                satisfied=sum(1 for p, c in rows if topic in p and topic in c),
            ),
        )
        for topic in ordered
    )
    return TopicAccuracy(exact=_share(rows), by_topic=by_topic)


def label_accuracy(actor: Actor) -> Accuracy:
    """The model measured against the verdicts on the items the actor may see."""
    settings = text_settings_of(actor.brand)
    return Accuracy(
        sentiment=sentiment_accuracy(actor, trained_at=settings.adapter_trained_at),
        topics=topic_accuracy(actor, names=topic_names(settings)),
        trained_at=settings.adapter_trained_at,
        adapter_examples=settings.adapter_examples,
        mode=settings.mode,
    )


# --- retraining ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrainResult:
    examples: int
    classes: dict[str, int]
    before: Score  # the shipped model's agreement with the verdicts
    after: Score  # the adapted model's, on the same verdicts it was fitted on
    cross_validated: Score | None  # the adapted model's on verdicts held out of its fit
    trained_at: datetime
    version: int


def retrain_examples(brand: Brand) -> list[tuple[str, str, str]]:
    """(text, language, label) of the brand's sentiment verdicts, most recent first."""
    rows = (
        LabelCorrection.objects.filter(brand=brand, field=LabelCorrection.Field.SENTIMENT)
        .select_related("item")
        .order_by("-at", "-pk")
    )
    examples = []
    for correction in rows.iterator():
        item = correction.item
        text = " ".join(part for part in (item.title, item.text) if part)
        if text.strip() and correction.corrected in SENTIMENTS:
            language = correction.language or item.language or brand.default_language
            examples.append((text, language, correction.corrected))
        if len(examples) >= MAX_RETRAIN_EXAMPLES:
            break
    return examples


def retrain_check(examples: list[tuple[str, str, str]]) -> dict[str, int]:
    """The examples per label; RetrainRefused when there is too little to learn from."""
    classes = dict(Counter(label for *_, label in examples).most_common())
    if len(examples) < MIN_RETRAIN_EXAMPLES:
        raise RetrainRefused(
            f"Retraining needs at least {MIN_RETRAIN_EXAMPLES} sentiment verdicts; "
            f"this brand has {len(examples)}.",
            field="corrections",
        )
    if len(classes) < 2:
        only = next(iter(classes))
        raise RetrainRefused(
            f"Every sentiment verdict says {only}: retraining needs verdicts of at least two "
            "labels (confirm some that the model got right, too).",
            field="corrections",
        )
    return classes


def text_retrain(*, brand: Brand, actor: Actor | None = None) -> RetrainResult:
    """Fit the brand's sentiment adapter on its sentiment verdicts, store it and re-analyse the
    stored items with it. `actor` None: the command line (no permission check)."""
    if actor is not None:
        if actor.brand.pk != brand.pk:
            raise NotFound("No such brand.", field="brand")
        actor.require(CAN_RETRAIN)
        if not actor.is_brand_wide:
            raise NotFound("No such page.", field="brand")
    examples = retrain_examples(brand)
    classes = retrain_check(examples)
    settings = text_settings_stored(brand)
    trained_before = settings.adapter_examples
    texts, languages, labels = (list(column) for column in zip(*examples, strict=True))
    # Minutes for thousands of texts: outside the transaction, which only stores the result.
    fitted = facade.sentiment_adapter_fit(
        texts, languages=languages, labels=labels, mode=settings.mode
    )
    n = fitted.examples
    with transaction.atomic():
        settings = TextSettings.objects.select_for_update().get(pk=settings.pk)
        settings.adapter = fitted.adapter
        settings.adapter_trained_at = timezone.now()
        settings.adapter_examples = n
        settings.save(update_fields=["adapter", "adapter_trained_at", "adapter_examples"])
        settings = text_settings_changed(settings=settings)
        before = facade.share_score(n=n, satisfied=fitted.correct_before)
        after = facade.share_score(n=n, satisfied=fitted.correct_after)
        audit_record(
            actor_user=actor.user if actor is not None else None,
            brand=brand,
            action="text.retrain",
            obj=settings,
            summary=(
                f"Sentiment adapted on {n} verdicts: agreement {before.value:.0f}% → "
                f"{after.value:.0f}% on them"
            ),
            changes={"adapter_examples": [str(trained_before), str(n)]},
        )
    return RetrainResult(
        examples=n,
        classes=classes,
        before=before,
        after=after,
        cross_validated=(
            facade.share_score(n=n, satisfied=fitted.cross_validated)
            if fitted.cross_validated is not None
            else None
        ),
        trained_at=settings.adapter_trained_at,
        version=settings.version,
    )
