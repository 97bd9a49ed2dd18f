"""Closed-loop cases: the rules that open them, who owns them, their deadlines and root cause.

A case turns an unhappy customer into owned work with a deadline and a measured outcome. Rules
open cases from responses and feedback; routing rules and the location's managers decide the
owner; SLA policies (in the location's business hours) set the due dates; every state change is a
service call that checks the transition and stamps its time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.feedback.models import FeedbackItem
from opencx.platform.models import Brand, Location, Touchpoint
from opencx.surveys.models import Invitation, Response, Survey


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class CaseRule(models.Model):
    """When a response or feedback item matches, open a case (or join the customer's open one)."""

    class Trigger(models.TextChoices):
        NPS_AT_MOST = "nps_at_most", "NPS score at or below a threshold"
        BAD_SIDE = "bad_side", "CSAT or CES on the bad side of its scale"
        NEGATIVE_SENTIMENT = "negative_sentiment", "Negative sentiment on a review or mention"
        KEYWORD = "keyword", "A keyword in the comment or text"
        LOW_RATING = "low_rating", "A review rating at or below a threshold (of 5)"
        RATING_DROP = "rating_drop", "A customer's score dropped by at least a threshold"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="case_rules")
    name = models.CharField(max_length=120)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    threshold = models.SmallIntegerField(null=True, blank=True)
    keywords = models.JSONField(default=list, blank=True, help_text="Any of these words (any case)")
    # Narrowing: a location subtree, a touchpoint, a survey; empty means everywhere.
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE)
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.CASCADE)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.CASCADE)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Who owns a new case: the first matching rule by position; else the location manager."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="routing_rules")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE)
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.CASCADE)
    topic = models.CharField(
        max_length=80, blank=True, help_text="A topic or word the customer's text mentions"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "pk"]


class SlaPolicy(models.Model):
    """Business hours (of the case's location) to acknowledge and to resolve, per priority."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=8, choices=Priority.choices)
    acknowledge_hours = models.PositiveIntegerField()
    resolve_hours = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "priority"], name="one_sla_per_priority")
        ]


class Case(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)

    class RootCause(models.TextChoices):
        STAFF = "staff", "Staff behaviour"
        WAITING = "waiting", "Waiting time"
        PRODUCT = "product", "Product quality"
        PRICE = "price", "Price or billing"
        AVAILABILITY = "availability", "Stock or availability"
        DELIVERY = "delivery", "Delivery or returns"
        PROCESS = "process", "Policy or process"
        DIGITAL = "digital", "Website or app"
        PREMISES = "premises", "Premises or cleanliness"
        OTHER = "other", "Other"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="cases")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="cases")
    touchpoint = models.ForeignKey(Touchpoint, null=True, blank=True, on_delete=models.SET_NULL)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    rule = models.ForeignKey(CaseRule, null=True, blank=True, on_delete=models.SET_NULL)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cases",
    )
    # The score that opened the case and the survey it came from (for the re-survey).
    trigger_score = models.SmallIntegerField(null=True, blank=True)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.SET_NULL)
    # A timestamp per state: the lifecycle is measurable without reading the history.
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    in_progress_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalated_cases",
    )
    # Root cause, after the operating model: what, when, how long, who else, why, reaction, after.
    what_happened = models.TextField(blank=True)
    happened_at = models.DateTimeField(null=True, blank=True)
    duration = models.CharField(max_length=120, blank=True, help_text="For how long")
    noticed_by = models.CharField(max_length=300, blank=True, help_text="Who else noticed")
    why = models.TextField(blank=True)
    customer_reaction = models.TextField(blank=True)
    change_after = models.TextField(blank=True, help_text="What changed after")
    root_cause = models.CharField(max_length=16, choices=RootCause.choices, blank=True)
    resolution = models.TextField(blank=True)
    # Closing the loop: the short re-survey after resolution and whether it won the customer back.
    resurvey_invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="case"
    )
    resurvey_score = models.SmallIntegerField(null=True, blank=True)
    recovered = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A customer's repeat complaints join their open case instead of opening new ones.
            models.UniqueConstraint(
                fields=["brand", "contact"],
                condition=Q(status__in=["new", "acknowledged", "in_progress"])
                & Q(contact__isnull=False),
                name="one_open_case_per_contact",
            )
        ]
        indexes = [
            models.Index(fields=["brand", "status", "opened_at"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < (now or timezone.now())


class CaseSource(models.Model):
    """A response or feedback item that opened or joined a case (each joins at most one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sources")
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="case_source"
    )
    feedback = models.OneToOneField(
        FeedbackItem, null=True, blank=True, on_delete=models.CASCADE, related_name="case_source"
    )
    rule = models.ForeignKey(CaseRule, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(response__isnull=False) | Q(feedback__isnull=False),
                name="case_source_has_an_item",
            )
        ]


class CaseEvent(models.Model):
    """The case's timeline: every change, note and message, by whom and when."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        JOINED = "joined", "Repeat complaint joined"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Owner changed"
        PRIORITY = "priority", "Priority changed"
        ROOT_CAUSE = "root_cause", "Root cause recorded"
        NOTE = "note", "Internal note"
        REPLY = "reply", "Reply to the customer"
        ESCALATED = "escalated", "Escalated"
        RESURVEY = "resurvey", "Re-survey sent"
        OUTCOME = "outcome", "Customer answered the re-survey"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Replies: the mail's Message-ID and whether the mail server took it.
    message_id = models.CharField(max_length=200, blank=True)
    delivery = models.CharField(max_length=10, blank=True, help_text="queued, sent or failed")
    delivery_error = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
