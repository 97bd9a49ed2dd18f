"""Unsolicited feedback in one store: reviews, social mentions, tickets, e-mails, chats."""

from django.db import models
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.platform.models import Brand, Channel, Location, Touchpoint, User
from opencx.surveys.models import Response


class FeedbackItem(models.Model):
    class Kind(models.TextChoices):
        REVIEW = "review", "Review"
        MENTION = "mention", "Social mention"
        TICKET = "ticket", "Support ticket"
        EMAIL = "email", "E-mail"
        CHAT = "chat", "Chat transcript"
        SURVEY = "survey", "Survey comment"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="feedback_items")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_items"
    )
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback_items"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.CharField(max_length=32, help_text="google, trustpilot, facebook, x, zendesk…")
    external_id = models.CharField(max_length=128)
    author = models.CharField(max_length=200, blank=True)
    rating = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    rating_scale = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    # Filled by text analytics: negative / neutral / positive, and its score in -1..1.
    sentiment = models.CharField(max_length=8, blank=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    url = models.URLField(blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    # Who said what (author and normalised text, hashed): near-duplicates share it.
    fingerprint = models.CharField(max_length=40, blank=True)
    import_run = models.ForeignKey(
        "ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    # A survey comment's response: its scores stay with the survey, its text lives here.
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="feedback_item"
    )
    # Filled by text analytics (topics: FeedbackTopic rows). `analysis_version` is the brand's
    # TextSettings.version the item was analysed under: a newer version re-analyses it.
    keyphrases = models.JSONField(default=list, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    analysis_version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "external_id"], name="feedback_exactly_once"
            )
        ]
        indexes = [
            models.Index(fields=["brand", "occurred_at"]),
            models.Index(fields=["brand", "fingerprint"], name="feedback_fingerprint"),
            models.Index(fields=["brand", "analysis_version"], name="feedback_analysis_version"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.author or 'anonymous'}"


class FeedbackTopic(models.Model):
    """A topic of the brand's taxonomy that text analytics (or a person) found in an item."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(FeedbackItem, on_delete=models.CASCADE, related_name="topic_rows")
    topic = models.CharField(max_length=64, help_text="The taxonomy's topic id")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "topic"], name="feedback_topic_once")
        ]
        indexes = [models.Index(fields=["brand", "topic"], name="feedback_topic_brand")]

    def __str__(self) -> str:
        return self.topic


class ImportRun(models.Model):
    """One import of one file: what was read, with which mapping, and how far it got.

    Rows are committed in batches together with `checkpoint` (the number of the last record
    that batch covered), so a run that was killed resumes after it and stores nothing twice.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Uploaded, to map"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="import_runs")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=1024, help_text="Where the file is read from")
    file_size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=8)
    mapping = models.JSONField(default=dict)
    source = models.CharField(max_length=32)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    checkpoint = models.BigIntegerField(default=0, help_text="Last record number committed")
    bytes_done = models.BigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    already_present = models.PositiveIntegerField(default=0)
    near_duplicates = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid running it")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.file_name}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE or not self.file_size:
            return 100 if self.status == self.Status.DONE else 0
        return min(99, int(100 * self.bytes_done / self.file_size))


class QuarantinedRow(models.Model):
    """A record an import could not store, with why, until someone fixes or discards it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        STORED = "stored", "Stored"
        DISCARDED = "discarded", "Discarded"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE)
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="quarantine")
    number = models.BigIntegerField(help_text="The record's number in the run")
    line = models.BigIntegerField(help_text="Where in the file: line (XLSX: row)")
    where = models.CharField(max_length=255, blank=True, help_text="File inside a folder")
    raw = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="[{field, reason}]")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    item = models.ForeignKey(FeedbackItem, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="quarantine_once_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.run.file_name}:{self.line}"


class WebhookSource(models.Model):
    """A system that pushes feedback to us: its public key (in the address), its secret (signs
    each body) and the mapping its items are read with."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_sources")
    name = models.CharField(max_length=120)
    key = models.CharField(max_length=64, unique=True)
    secret = models.CharField(max_length=128)
    mapping = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    received = models.PositiveIntegerField(default=0)
    last_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
