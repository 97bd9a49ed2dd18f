"""Text analytics of the feedback store, in the background: language, sentiment, topics and
keyphrases for every item, under the brand's settings (taxonomy, mode, sentiment adapter).

Ingestion never waits: a new item only makes sure one `analyse_pending` task is queued for its
brand (a conditional UPDATE of `TextSettings.queued_at`, so an import of a million rows queues
one task, not a million). The task takes items whose `analysis_version` is below the brand's
`TextSettings.version` (0: never analysed) in batches, stores the results, and queues itself
again while some remain. Changing the taxonomy, mode or adapter raises the version
(`text_settings_changed`), which re-analyses every stored item the same way.

After a batch commits, FEEDBACK_ANALYSED is emitted once with the ids analysed for the first
time: case rules on sentiment subscribe to it.
"""

import logging
import time
from collections.abc import Callable, Sequence

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from opencx.feedback.models import FeedbackItem, FeedbackTopic
from opencx.feedback.services import (
    FEEDBACK_ANALYSED,
    FEEDBACK_RECEIVED,
    feedback_from_response,
)
from opencx.platform.events import emit, subscribe
from opencx.platform.models import Brand
from opencx.surveys.services import RESPONSE_COMMENTED

from . import facade
from .models import LabelCorrection, TextSettings

logger = logging.getLogger(__name__)

BATCH_SIZE = 64
# One task run analyses for about this long, then hands over to a fresh run (others get turns).
RUN_SECONDS = 60.0


def text_settings_of(brand: Brand | int) -> TextSettings:
    """The brand's text settings: the defaults (unsaved) until something changes them."""
    brand_id = brand if isinstance(brand, int) else brand.pk
    found = TextSettings.objects.filter(brand_id=brand_id).first()
    return found if found is not None else TextSettings(brand_id=brand_id)


def text_settings_stored(brand: Brand | int) -> TextSettings:
    """The brand's text settings as a stored row (created with the defaults), for writes."""
    brand_id = brand if isinstance(brand, int) else brand.pk
    found, _ = TextSettings.objects.get_or_create(brand_id=brand_id)
    return found


def taxonomy_of(settings: TextSettings) -> list[dict]:
    """The brand's topics as dicts: its own, or the seeded CX topics."""
    return list(settings.taxonomy) if settings.taxonomy else facade.seed_taxonomy()


def topic_names(settings: TextSettings) -> dict[str, str]:
    """Topic id to the name people see, in the taxonomy's order."""
    return {topic["id"]: topic["name"] for topic in taxonomy_of(settings)}


def shown_text(settings: TextSettings, text: str) -> str:
    """Text as it may be displayed or exported: PII redacted where the brand asks for it."""
    return facade.redact_pii(text) if settings.redact_pii and text else text


def brand_languages(brand: Brand) -> list[str]:
    """The languages language identification may choose from: the brand's, default first."""
    return list(dict.fromkeys([brand.default_language, *(brand.languages or [])]))


def text_settings_changed(*, settings: TextSettings) -> TextSettings:
    """Record a change that alters analyses: a new version, and every item analysed again."""
    TextSettings.objects.filter(pk=settings.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    settings.refresh_from_db()
    transaction.on_commit(lambda: queue_analysis(brand_id=settings.brand_id), robust=True)
    return settings


def queue_analysis(*, brand_id: int) -> bool:
    """Make sure one analysis task is queued for the brand; True if this call queued it."""
    from .text_tasks import analyse_pending

    settings = text_settings_stored(brand_id)
    claimed = TextSettings.objects.filter(pk=settings.pk, queued_at__isnull=True).update(
        queued_at=timezone.now()
    )
    if claimed:
        analyse_pending.enqueue(brand_id)
    return bool(claimed)


def pending_items(settings: TextSettings):
    """Items of the brand still to analyse under its current settings, oldest first."""
    return FeedbackItem.objects.filter(
        brand_id=settings.brand_id, analysis_version__lt=settings.version
    ).order_by("pk")


def feedback_analyse(*, item_ids: Sequence[int], settings: TextSettings) -> list[int]:
    """Analyse these items under `settings` and store the results. Returns the ids analysed for
    the first time (FEEDBACK_ANALYSED is emitted for them after the commit)."""
    items = list(
        FeedbackItem.objects.filter(pk__in=item_ids, brand_id=settings.brand_id).order_by("pk")
    )
    if not items:
        return []
    brand = Brand.objects.get(pk=settings.brand_id)
    texts = [" ".join(part for part in (item.title, item.text) if part) for item in items]
    results = _analysed(texts, brand=brand, settings=settings)
    now = timezone.now()
    first_time = []
    with transaction.atomic():
        # Topics a person set by a correction stand: re-analysis does not overwrite them.
        verdicts = LabelCorrection.objects.filter(item_id__in=[item.pk for item in items])
        corrected = set(verdicts.filter(field="topics").values_list("item_id", flat=True))
        sentiment_fixed = set(verdicts.filter(field="sentiment").values_list("item_id", flat=True))
        FeedbackTopic.objects.filter(
            item_id__in=[item.pk for item in items if item.pk not in corrected]
        ).delete()
        rows = []
        for item, text, result in zip(items, texts, results, strict=True):
            if item.analysis_version == 0:
                first_time.append(item.pk)
            if text.strip() and result is not None:
                item.language = result.language
                if item.pk not in sentiment_fixed:
                    item.sentiment = result.sentiment
                    item.sentiment_score = result.sentiment_score
                item.keyphrases = list(result.keyphrases)
                if item.pk not in corrected:
                    rows += [
                        FeedbackTopic(brand_id=item.brand_id, item_id=item.pk, topic=topic)
                        for topic in result.topics
                    ]
            item.analysed_at = now
            item.analysis_version = settings.version
        FeedbackItem.objects.bulk_update(
            items,
            [
                "language",
                "sentiment",
                "sentiment_score",
                "keyphrases",
                "analysed_at",
                "analysis_version",
            ],
        )
        FeedbackTopic.objects.bulk_create(rows, ignore_conflicts=True)
        if first_time:
            emit(FEEDBACK_ANALYSED, brand_id=settings.brand_id, feedback_ids=first_time)
    return first_time


def _analysed(texts: list[str], *, brand: Brand, settings: TextSettings) -> list:
    """The batch's results; a text the analysis cannot take gets None (and is logged) rather
    than holding up the brand's queue for ever."""

    def run(batch: list[str]) -> list:
        return facade.analyse_texts(
            batch,
            languages=brand_languages(brand),
            mode=settings.mode,
            taxonomy=settings.taxonomy or None,
            adapter=settings.adapter,
            transformer_dir=django_settings.OPENCX_TRANSFORMER_DIR,
        )

    try:
        return run(texts)
    except Exception:
        logger.exception("text analysis failed on a batch of brand %s; item by item", brand.pk)
    results: list = []
    for text in texts:
        try:
            results.extend(run([text]))
        except Exception:
            logger.exception("text analysis failed on one text of brand %s", brand.pk)
            results.append(None)
    return results


def analyse_pending(
    *, brand_id: int, seconds: float = RUN_SECONDS, progress: Callable[[int], object] | None = None
) -> int:
    """Analyse the brand's pending items for about `seconds`; queue a further run if some are
    left. Returns how many items were analysed."""
    TextSettings.objects.filter(brand_id=brand_id).update(queued_at=None)
    settings = text_settings_stored(brand_id)
    started = time.monotonic()
    done = 0
    while True:
        ids = list(pending_items(settings).values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            return done
        feedback_analyse(item_ids=ids, settings=settings)
        done += len(ids)
        if progress is not None:
            progress(len(ids))
        settings.refresh_from_db()
        if time.monotonic() - started >= seconds:
            break
    transaction.on_commit(lambda: queue_analysis(brand_id=brand_id), robust=True)
    return done


def analyse_all_pending(*, seconds: float = RUN_SECONDS) -> dict[int, int]:
    """The worker's safety net: queue analysis for every brand with pending items."""
    queued = {}
    for settings in TextSettings.objects.all():
        if pending_items(settings).exists():
            queued[settings.brand_id] = int(queue_analysis(brand_id=settings.brand_id))
    for brand_id in (
        FeedbackItem.objects.filter(analysis_version=0)
        .exclude(brand__text_settings__isnull=False)
        .values_list("brand_id", flat=True)
        .distinct()
    ):
        queued[brand_id] = int(queue_analysis(brand_id=brand_id))
    return queued


# --- what starts analysis -----------------------------------------------------------------------


@subscribe(FEEDBACK_RECEIVED)
def _analyse_new_feedback(*, feedback_id: int, brand_id: int) -> None:
    queue_analysis(brand_id=brand_id)


@subscribe(RESPONSE_COMMENTED)
def _store_survey_comment(*, response_id: int, brand_id: int) -> None:
    # A handful of writes, after the response committed: it goes into the feedback store and
    # waits there for analysis like any review.
    if feedback_from_response(response_id=response_id) is not None:
        queue_analysis(brand_id=brand_id)
