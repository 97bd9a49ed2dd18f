"""Outbound webhooks (endpoints and their deliveries) and each member's notification choices."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from opencx.platform.models import Brand


class WebhookEndpoint(models.Model):
    """Where a brand's public events are POSTed: a signed JSON webhook, or a Slack-style
    incoming webhook (one line of text per event, no signature)."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        SLACK = "slack", "Slack / Mattermost / Rocket.Chat"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_endpoints")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=2000)
    # Needed in clear to sign each delivery, so it is stored; shown on creation and rotation.
    secret = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WEBHOOK)
    events = models.JSONField(
        default=list, blank=True, help_text="Public event names; empty: every public event"
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

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:6]}…{self.secret[-4:]}" if self.secret else ""


class WebhookDelivery(models.Model):
    """One event occurrence for one endpoint, and what happened when it was sent.

    `event_id` is the same for every endpoint that receives the occurrence (receivers dedupe on
    it). `sequence` is 0 for the original and 1, 2, ... for replays, so (endpoint, event_id,
    sequence) is unique on every database: an event emitted twice is queued once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (retrying)"
        GAVE_UP = "gave_up", "Gave up"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=64)
    event_id = models.CharField(max_length=36)
    sequence = models.PositiveIntegerField(default=0)
    payload = models.JSONField(help_text="The JSON body sent (for Slack endpoints: the event)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 2 KB of the answer")
    request_headers = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id", "sequence"], name="webhook_delivery_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["brand", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class NotificationPreference(models.Model):
    """What one member of a brand wants to hear about by e-mail. No row: the defaults."""

    class Digest(models.TextChoices):
        OFF = "off", "Off"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    email_case_assigned = models.BooleanField(default=True)
    email_case_escalated = models.BooleanField(default=True)
    email_case_overdue = models.BooleanField(default=True)
    email_alerts = models.BooleanField(default=True)
    digest = models.CharField(max_length=8, choices=Digest.choices, default=Digest.WEEKLY)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="notification_pref_unique")
        ]
