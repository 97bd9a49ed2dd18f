"""Rollups: additive counts of scored answers, kept current on every write.

Dashboards read these instead of scanning responses (ARCHITECTURE.md, rule 4). One row holds the
counts of one question's scored answers on one day at one location, through one touchpoint and
one channel. Every score and interval (NPS, % satisfied, mean and its variance) is computed
exactly from sums of these rows, over any grouping of the key.

- `day` is the calendar day in the *location's* time zone (Location.timezone), so a store's
  Monday is its own Monday wherever the reader sits. Periods asked of the rollups are whole days.
- `touchpoint_key` and `channel_key` hold the touchpoint's / channel's id, or 0 for none. They
  are plain integers rather than nullable foreign keys so that the unique key treats "none" as
  one value on SQLite and PostgreSQL alike (NULLs are distinct in a unique constraint).
- `shard` splits one key's counts over a few rows (ROLLUP_SHARDS): each writing thread adds to
  its own, so answers arriving at once for the same busy store and day do not queue on one row
  lock. Readers always sum, so the split is invisible to them.
- The rows are derived data: `insights.services.rollups_rebuild` recomputes a brand's from the
  raw answers at any time.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from opencx.platform.models import Brand, Location
from opencx.surveys.models import Question, Survey

NONE_KEY = 0  # touchpoint_key / channel_key of an answer given without a touchpoint / channel
ROLLUP_SHARDS = 8


class ResponseRollup(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="Calendar day in the location's time zone")
    touchpoint_key = models.PositiveIntegerField(
        default=NONE_KEY, help_text="Touchpoint id, 0: none"
    )
    channel_key = models.PositiveIntegerField(default=NONE_KEY, help_text="Channel id, 0: none")
    shard = models.PositiveSmallIntegerField(default=0, help_text="0..ROLLUP_SHARDS-1")
    n = models.PositiveBigIntegerField(default=0, help_text="Scored answers")
    promoters = models.PositiveBigIntegerField(default=0, help_text="NPS questions: 9–10")
    passives = models.PositiveBigIntegerField(default=0, help_text="NPS questions: 7–8")
    detractors = models.PositiveBigIntegerField(default=0, help_text="NPS questions: 0–6")
    satisfied = models.PositiveBigIntegerField(
        default=0, help_text="Scores in the question's stored satisfied set"
    )
    score_sum = models.BigIntegerField(default=0)
    score_sq_sum = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "location", "day", "touchpoint_key", "channel_key", "shard"],
                name="rollup_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["brand", "day"], name="rollup_brand_day"),
            # Covers the dashboards' sums, so they read the index alone (SQLite and PostgreSQL).
            models.Index(
                fields=[
                    "question",
                    "day",
                    "brand",
                    "location",
                    "n",
                    "promoters",
                    "detractors",
                    "satisfied",
                ],
                name="rollup_question_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} location#{self.location_id} question#{self.question_id}: n={self.n}"

    @property
    def touchpoint_id(self) -> int | None:
        return self.touchpoint_key or None

    @property
    def channel_id(self) -> int | None:
        return self.channel_key or None


COUNT_FIELDS = (
    "n",
    "promoters",
    "passives",
    "detractors",
    "satisfied",
    "score_sum",
    "score_sq_sum",
)


class DigestSent(models.Model):
    """One member's digest of one period: claimed in the transaction that sends it, so each
    digest goes out once however often `opencx send_digests` runs (a failed send rolls the
    claim back and the next run retries). `empty`: the period had no activity in the member's
    reach, so nothing was sent (and the digest is not built again every hour)."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests_sent"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    period_start = models.DateField(help_text="First day of the period, in the brand's time zone")
    empty = models.BooleanField(default=False, help_text="No activity: nothing was sent")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "brand", "frequency", "period_start"], name="digest_sent_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.frequency} digest from {self.period_start} to user#{self.user_id}"


# --- Brand monitoring: alert rules and the alerts they raise (insights.alerts) -----------------


class AlertRule(models.Model):
    """What to watch in a brand's feedback, and where. Evaluated by `opencx evaluate_alerts`.

    - negative_share: in each location (or channel) in scope, the negative share of the items
      whose sentiment is known, recent window against the same group's baseline (the weeks
      before it); fires on a significant rise (two-proportion test, Holm across the groups of
      one run), only when both windows hold at least `min_n` items.
    - rating_drop: the mean rating out of five, same windows; fires when it drops by at least
      `threshold` stars and the drop is significant (Welch t, Holm across the groups).
    - keyword: a word or phrase of `keywords` starts a word of an item's title or text; each
      item alerts a rule once, when at least `min_count` new matches fall in the window.
    """

    class Kind(models.TextChoices):
        NEGATIVE_SHARE = "negative_share", "Rise in the negative share"
        RATING_DROP = "rating_drop", "Rating drop"
        KEYWORD = "keyword", "Keyword watch"

    class GroupBy(models.TextChoices):
        LOCATION = "location", "Each location"
        CHANNEL = "channel", "Each channel"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this location's subtree; empty: the whole brand",
    )
    channel = models.ForeignKey(
        "platform.Channel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this channel; empty: every channel",
    )
    group_by = models.CharField(max_length=8, choices=GroupBy.choices, default=GroupBy.LOCATION)
    keywords = models.JSONField(default=list, blank=True)
    window_days = models.PositiveSmallIntegerField(default=7)
    baseline_days = models.PositiveSmallIntegerField(default=56)
    min_n = models.PositiveIntegerField(default=30, help_text="Items needed in each window")
    min_count = models.PositiveIntegerField(default=1, help_text="Keyword matches per alert")
    alpha = models.FloatField(default=0.05)
    threshold = models.FloatField(
        default=0.0, help_text="Least rise in points (negative share) or drop in stars (rating)"
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """One alert: what fired, where, the figures behind it and the items it is about.

    `key` makes it once-only: a statistical rule's alert is one per (rule, location, channel,
    day the window ended); a keyword alert is keyed by its first item (each item alerts a rule
    once, `AlertedItem`). Evaluating again therefore adds nothing."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "platform.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=AlertRule.Kind.choices)
    title = models.CharField(max_length=300)
    details = models.JSONField(default=dict, help_text="The figures")
    items = models.JSONField(default=list, help_text="Feedback item ids (capped)")
    window_end = models.DateField(help_text="Day the recent window ended (brand time zone)")
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["brand", "key"], name="alert_once_per_key")]
        indexes = [models.Index(fields=["brand", "created_at"], name="alert_brand_created")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class AlertedItem(models.Model):
    """A feedback item that a keyword rule has alerted about: never again for that rule."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("feedback.FeedbackItem", on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "item"], name="alerted_item_once_per_rule")
        ]


class TextSettings(models.Model):
    """A brand's text analytics: its topic taxonomy, PII redaction, mode and sentiment adapter.

    `version` goes up whenever something that changes an analysis changes (taxonomy, adapter,
    mode): stored items analysed under an older version are analysed again in the background.
    """

    class Mode(models.TextChoices):
        DEFAULT = "default", "Quality (multilingual-e5-small)"
        FAST = "fast", "Fast (Universal Sentence Encoder)"

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="text_settings")
    taxonomy = models.JSONField(
        null=True, blank=True, help_text="The topics as a list; empty: the seeded CX topics"
    )
    redact_pii = models.BooleanField(
        default=False, help_text="Hide e-mail addresses, phone and card numbers in display/export"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.DEFAULT)
    # The brand's sentiment adaptation (`opencx text retrain`): plain numbers, never pickles.
    adapter = models.JSONField(null=True, blank=True)
    adapter_trained_at = models.DateTimeField(null=True, blank=True)
    adapter_examples = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    # Set while an analysis task is queued for the brand, so that one is queued at a time.
    queued_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Text settings of {self.brand}"


class LabelCorrection(models.Model):
    """A person's verdict on one analysed label of an item: what the model said, what is right.

    A verdict equal to the prediction confirms it; both count towards the brand's accuracy and
    the corrections adapt the brand's model (`opencx text retrain`).
    """

    class Field(models.TextChoices):
        SENTIMENT = "sentiment", "Sentiment"
        TOPICS = "topics", "Topics"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        "feedback.FeedbackItem", on_delete=models.CASCADE, related_name="corrections"
    )
    field = models.CharField(max_length=10, choices=Field.choices)
    predicted = models.JSONField(help_text="The model's label (topics: a sorted list)")
    corrected = models.JSONField(help_text="The person's label (topics: a sorted list)")
    language = models.CharField(max_length=8, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "field"], name="label_correction_once")
        ]
        indexes = [models.Index(fields=["brand", "field", "at"], name="label_correction_brand")]

    def __str__(self) -> str:
        return f"{self.field} of item {self.item_id}: {self.predicted} -> {self.corrected}"
