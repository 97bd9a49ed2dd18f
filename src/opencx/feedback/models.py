"""Unsolicited feedback in one store: reviews, social mentions, tickets, e-mails, chats."""

from django.db import models
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.platform.models import Brand, Channel, Location, Touchpoint


class FeedbackItem(models.Model):
    class Kind(models.TextChoices):
        REVIEW = "review", "Review"
        MENTION = "mention", "Social mention"
        TICKET = "ticket", "Support ticket"
        EMAIL = "email", "E-mail"
        CHAT = "chat", "Chat transcript"

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

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "external_id"], name="feedback_exactly_once"
            )
        ]
        indexes = [models.Index(fields=["brand", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.author or 'anonymous'}"
