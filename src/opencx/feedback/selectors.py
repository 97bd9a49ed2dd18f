"""Reads of unsolicited feedback, always scoped to an actor (and the chosen location)."""

from datetime import date

from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce

from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter
from opencx.surveys.models import Survey

from .models import FeedbackItem, FeedbackTopic, ImportRun, QuarantinedRow, WebhookSource

DEFAULT_RATING_SCALE = 5
SENTIMENTS = ("negative", "neutral", "positive")
NOT_ANALYSED = "none"  # the sentiment filter's value for items not analysed yet
NO_TOPIC = "none"  # the topic filter's value for analysed items in no topic
# NPS bands of a survey comment's score (0–10), inclusive.
NPS_BANDS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}

# A rating on any scale, expressed in stars out of five (4/5 -> 4.0, 8/10 -> 4.0).
STARS = (
    Cast(F("rating"), FloatField())
    * Value(5.0)
    / Cast(Coalesce(F("rating_scale"), Value(DEFAULT_RATING_SCALE)), FloatField())
)


def feedback_visible_to(
    actor: Actor, *, location: Location | None = None
) -> QuerySet[FeedbackItem]:
    """Feedback the actor may see, narrowed to `location`'s subtree if given.

    Items without a location are brand-level: only brand-wide members see them.
    """
    qs = FeedbackItem.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def feedback_list(
    actor: Actor,
    *,
    location: Location | None,
    within: Location | None = None,
    kind: str = "",
    source: str = "",
    stars: int | None = None,
    q: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    language: str = "",
    sentiment: str = "",
    topic: str = "",
    nps_band: str = "",
) -> QuerySet[FeedbackItem]:
    """Feedback newest first, with optional filters.

    Each item carries `stars`: its rating brought to five stars (None when unrated).
    `stars` (1–5) keeps items whose rating, brought to five stars, rounds to that number;
    `q` searches title, text and author; the date range is inclusive on both ends.
    `sentiment` is negative, neutral or positive (or NOT_ANALYSED: items still waiting for text
    analytics); `topic` a taxonomy topic id (or NO_TOPIC: analysed items in no topic);
    `nps_band` keeps survey comments of NPS surveys whose score is in that band.
    """
    qs = feedback_visible_to(actor, location=location).annotate(stars=STARS)
    if within is not None:
        qs = qs.filter(location__path__startswith=within.path)
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if stars is not None:
        qs = qs.filter(stars__gte=stars - 0.5, stars__lt=stars + 0.5)
    if q:
        qs = qs.filter(Q(text__icontains=q) | Q(title__icontains=q) | Q(author__icontains=q))
    if date_from is not None:
        qs = qs.filter(occurred_at__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(occurred_at__date__lte=date_to)
    if language:
        qs = qs.filter(language=language)
    if sentiment == NOT_ANALYSED:
        qs = qs.filter(analysed_at__isnull=True)
    elif sentiment:
        qs = qs.filter(sentiment=sentiment)
    if topic == NO_TOPIC:
        qs = qs.filter(analysed_at__isnull=False).exclude(
            Exists(FeedbackTopic.objects.filter(item=OuterRef("pk")))
        )
    elif topic:
        qs = qs.filter(Exists(FeedbackTopic.objects.filter(item=OuterRef("pk"), topic=topic)))
    if nps_band:
        low, high = NPS_BANDS[nps_band]
        qs = qs.filter(
            kind=FeedbackItem.Kind.SURVEY,
            response__survey__kind=Survey.Kind.NPS,
            response__score__gte=low,
            response__score__lte=high,
        )
    return qs.select_related("location", "channel", "response__survey").order_by(
        "-occurred_at", "-pk"
    )


def feedback_sources(actor: Actor) -> list[str]:
    """The sources present in the actor's reach, for the filter's choices."""
    return list(
        feedback_visible_to(actor).order_by("source").values_list("source", flat=True).distinct()
    )


def feedback_languages(actor: Actor) -> list[str]:
    """The languages present in the actor's reach (as identified or given), for the filter."""
    return list(
        feedback_visible_to(actor)
        .exclude(language="")
        .order_by("language")
        .values_list("language", flat=True)
        .distinct()
    )


def feedback_get(actor: Actor, *, pk: int) -> FeedbackItem:
    """One item; another brand's, or one outside the actor's subtree, does not exist (404)."""
    item = (
        feedback_visible_to(actor)
        .annotate(stars=STARS)
        .select_related("location", "channel", "contact", "touchpoint")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise NotFound("No such feedback.", field="feedback")
    return item


def unhappy_reviews(actor: Actor, *, location: Location | None) -> QuerySet[FeedbackItem]:
    """Reviews of one or two stars (on any scale, brought to five), newest first."""
    return (
        feedback_visible_to(actor, location=location)
        .filter(kind=FeedbackItem.Kind.REVIEW, rating__isnull=False)
        .alias(stars=STARS)
        .filter(stars__lt=2.5)
        .order_by("-occurred_at", "-pk")
    )


# --- imports, their quarantine, webhook sources: brand-level rows ------------------------------
# Only members with brand-wide reach see them (others get 404); pages and the API then require
# MANAGE_FEEDBACK (403).


def import_runs_visible_to(actor: Actor) -> QuerySet[ImportRun]:
    if not actor.is_brand_wide:
        return ImportRun.objects.none()
    return ImportRun.objects.filter(brand=actor.brand).select_related("created_by")


def import_run_get(actor: Actor, *, pk: int) -> ImportRun:
    run = import_runs_visible_to(actor).filter(pk=pk).first()
    if run is None:
        raise NotFound("No such import.", field="import")
    return run


def quarantined_rows_of(
    actor: Actor, *, run: ImportRun, status: str = QuarantinedRow.Status.OPEN
) -> QuerySet[QuarantinedRow]:
    qs = QuarantinedRow.objects.filter(brand=actor.brand, run=run)
    if not actor.is_brand_wide:
        return qs.none()
    return qs.filter(status=status) if status else qs


def quarantined_row_get(actor: Actor, *, pk: int) -> QuarantinedRow:
    row = (
        QuarantinedRow.objects.filter(brand=actor.brand, pk=pk).select_related("run").first()
        if actor.is_brand_wide
        else None
    )
    if row is None:
        raise NotFound("No such row.", field="row")
    return row


def webhook_sources_visible_to(actor: Actor) -> QuerySet[WebhookSource]:
    if not actor.is_brand_wide:
        return WebhookSource.objects.none()
    return WebhookSource.objects.filter(brand=actor.brand)


def webhook_source_get(actor: Actor, *, pk: int) -> WebhookSource:
    source = webhook_sources_visible_to(actor).filter(pk=pk).first()
    if source is None:
        raise NotFound("No such webhook source.", field="webhook_source")
    return source


def webhook_source_by_key(*, key: str) -> WebhookSource | None:
    """The active source a webhook address names (the public endpoint has no actor)."""
    if not key or len(key) > 64:
        return None
    return WebhookSource.objects.select_related("brand").filter(key=key, is_active=True).first()
