"""Conversations with customers on every channel, after Chatwoot's model.

An `Inbox` is one place customers write to (a support address, an API integration...), at a
location or brand-wide; each kind keeps its settings in its own table (`EmailChannel`,
`ApiChannel`). Conversations and messages are written only through `services`.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.platform.models import Brand, Channel, Location


class Inbox(models.Model):
    """One place customers write to. Brand-level when it has no location."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEB_CHAT = "web_chat", "Web chat"
        SMS = "sms", "SMS"
        API = "api", "API"
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"
        GOOGLE_REVIEWS = "google_reviews", "Google reviews"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="inboxes")
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inboxes",
        help_text="Empty: the whole brand.",
    )
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="inboxes",
        help_text="The medium its conversations are reported under",
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    auto_assign = models.BooleanField(
        default=True, help_text="Give new conversations to available agents, round-robin"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class EmailChannel(models.Model):
    """How an e-mail inbox reads its mailbox (IMAP) and sends replies (SMTP)."""

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="email")
    address = models.EmailField(help_text="The address customers write to; replies come from it")
    imap_host = models.CharField(max_length=255)
    imap_port = models.PositiveIntegerField(default=993)
    imap_ssl = models.BooleanField(default=True)
    imap_user = models.CharField(max_length=255)
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    smtp_host = models.CharField(max_length=255)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_starttls = models.BooleanField(default=True)
    smtp_user = models.CharField(max_length=255, blank=True)
    smtp_password = models.CharField(max_length=255, blank=True)
    # The folder's UIDVALIDITY and the highest UID stored: fetching asks only for newer ones.
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.address


class ApiChannel(models.Model):
    """An inbox other systems write to with a bearer token (only its SHA-256 is stored)."""

    PREFIX = "ocxin_"

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="api")
    token_digest = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=16)
    webhook_url = models.URLField(blank=True, help_text="Agent replies are POSTed here, signed")
    webhook_secret = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.inbox} ({self.token_hint}…)"

    @classmethod
    def new_token(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class AgentStatus(models.Model):
    """Whether a member takes conversations now, and how many open ones at most."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_statuses"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="agent_statuses")
    available = models.BooleanField(default=False)
    capacity = models.PositiveSmallIntegerField(
        default=10, help_text="Open conversations at most (automatic assignment stops there)"
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="agent_status_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {'available' if self.available else 'away'}"


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="conversations")
    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    external_thread = models.CharField(
        max_length=255,
        blank=True,
        help_text="The thread's id at the channel (e.g. its first Message-ID)",
    )

    class Meta:
        indexes = [
            models.Index(fields=["brand", "status", "created_at"]),
            models.Index(fields=["inbox", "external_thread"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return self.subject or f"Conversation #{self.pk}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INCOMING = "in", "From the customer"
        OUTGOING = "out", "To the customer"

    class Sender(models.TextChoices):
        CONTACT = "contact", "Customer"
        AGENT = "agent", "Agent"
        BOT = "bot", "Bot"
        SYSTEM = "system", "Automatic"

    class Delivery(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Not sent"
        RECEIVED = "received", "Received"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Copied from the conversation, so the database can keep provider ids unique per inbox.
    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    sender_kind = models.CharField(max_length=8, choices=Sender.choices)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    is_private = models.BooleanField(default=False, help_text="Internal note, never sent")
    body = models.TextField()
    external_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    delivery_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(
        max_length=255, blank=True, help_text="The channel's id (e.g. Message-ID): stored once"
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the sender says")
    headers = models.JSONField(
        default=dict, blank=True, help_text="Threading and addressing (in_reply_to, references)"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inbox", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="message_provider_id_unique_per_inbox",
            )
        ]
