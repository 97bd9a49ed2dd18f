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

    # No index of their own for brand, inbox and assignee: the composite indexes below start
    # with them, and every index costs each message that opens or moves a conversation.
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    inbox = models.ForeignKey(
        Inbox,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        db_index=False,
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
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    team = models.ForeignKey(
        "Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    labels = models.ManyToManyField("Label", blank=True, related_name="conversations")
    # Service levels: the policy in force and the moments each target falls due (business hours
    # of the location when the policy says so); *_breached_at is set once, when missed.
    sla_policy = models.ForeignKey(
        "SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    # The satisfaction survey sent after resolution (surveys capability), if any.
    csat_invitation = models.ForeignKey(
        "surveys.Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
            # The queue's tabs read their first page straight off these, in the list's order
            # (selectors.conversation_list): waiting tabs longest-waiting first, the rest newest.
            models.Index(
                fields=["brand", "status", "waiting_since", "-created_at", "-id"],
                name="conversation_queue_waiting",
            ),
            models.Index(fields=["brand", "-created_at", "-id"], name="conversation_queue_newest"),
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

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        COMMENT = "comment", "Public comment"
        REVIEW = "review", "Review"
        EVENT = "event", "Activity"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MESSAGE)
    attachments = models.JSONField(
        default=list, blank=True, help_text="[{name, content_type, size, url}] as the channel gave"
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


# --- more channels: one config table per kind ---------------------------------------------------


class WebChatChannel(models.Model):
    """The embeddable chat widget of an inbox: its public key (in the embed snippet) and looks."""

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="web_chat")
    widget_key = models.CharField(max_length=64, unique=True)
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text="Sites that may embed the widget; empty: any"
    )
    greeting = models.CharField(max_length=300, blank=True)
    colour = models.CharField(max_length=7, default="#1d4ed8")
    ask_for_email = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Web chat of {self.inbox}"


class WebChatSession(models.Model):
    """One visitor's browser in the widget: a secret token (stored hashed) that names them."""

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="web_chat_sessions")
    token_digest = models.CharField(max_length=64, unique=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Web chat visitor {self.pk}"


class SmsChannel(models.Model):
    """Text messages through a Twilio-compatible provider (requests signed with auth_token)."""

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="sms")
    phone_number = models.CharField(max_length=32, help_text="E.164, e.g. +442920000000")
    account_sid = models.CharField(max_length=64)
    auth_token = models.CharField(max_length=128)
    api_base_url = models.URLField(default="https://api.twilio.com")

    def __str__(self) -> str:
        return f"SMS {self.phone_number}"


class MetaChannel(models.Model):
    """A Facebook page or Instagram account: messages and public comments (Graph API webhooks,
    signed with the app secret)."""

    class Platform(models.TextChoices):
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="meta")
    platform = models.CharField(max_length=9, choices=Platform.choices)
    page_id = models.CharField(max_length=64, help_text="Page id (or Instagram account id)")
    app_secret = models.CharField(max_length=128)
    page_access_token = models.CharField(max_length=512)
    verify_token = models.CharField(max_length=128, help_text="Echoed to Meta's subscription check")
    graph_base_url = models.URLField(default="https://graph.facebook.com/v19.0")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "page_id"], name="meta_channel_page_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.page_id}"


class GoogleReviewsChannel(models.Model):
    """Google Business Profile reviews of one listing: pushed notifications, replies posted back."""

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="google_reviews")
    account_id = models.CharField(max_length=64)
    listing_id = models.CharField(max_length=64, help_text="Google's location id of the listing")
    push_secret = models.CharField(max_length=128, help_text="Signs or authorises each push")
    access_token = models.CharField(max_length=512, blank=True)
    api_base_url = models.URLField(default="https://mybusiness.googleapis.com/v4")

    def __str__(self) -> str:
        return f"Google reviews {self.listing_id}"


# --- working the queue ------------------------------------------------------------------------


class Team(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    inboxes = models.ManyToManyField(Inbox, blank=True, related_name="teams")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="team_name_once")]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="inbox_labels")
    name = models.CharField(max_length=60)
    colour = models.CharField(max_length=7, default="#64748b")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="label_name_once")]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A saved answer with placeholders ({{ contact.first_name }}, {{ agent.name }}...)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="canned_replies")
    shortcut = models.SlugField(max_length=40, help_text="Typed after / in the reply box")
    title = models.CharField(max_length=120)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shortcut", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "shortcut"], name="canned_reply_shortcut_once")
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class SavedView(models.Model):
    """A named set of queue filters: the owner's own, or shared with the brand (owner null)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="saved_inbox_views")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=80)
    filters = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets of one inbox for one priority, in minutes; counted in the location's business
    hours when `business_hours` (else around the clock)."""

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=8, choices=Conversation.Priority.choices)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    business_hours = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inbox", "priority"], name="sla_policy_once")
        ]

    def __str__(self) -> str:
        return f"SLA of {self.inbox} ({self.priority})"


class ConversationEvent(models.Model):
    """The reporting fact table: one row per thing that happened to a conversation, with the
    dimensions reports group by and, for responses and resolutions, the time it took in
    calendar and in business seconds. Written by the services; reports read only this."""

    class Kind(models.TextChoices):
        CREATED = "created", "Conversation started"
        FIRST_RESPONSE = "first_response", "First response"
        REPLY = "reply", "Reply"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        ASSIGNED = "assigned", "Assigned"
        SLA_BREACH = "sla_breach", "Service level missed"

    # brand and conversation lead the composite indexes below: no index of their own.
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_index=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seconds = models.FloatField(null=True, blank=True, help_text="Calendar time it took")
    business_seconds = models.FloatField(null=True, blank=True, help_text="In business hours")
    detail = models.CharField(max_length=40, blank=True, help_text="e.g. which SLA target")

    class Meta:
        indexes = [
            models.Index(fields=["brand", "kind", "at"], name="conversation_event_report"),
            models.Index(fields=["conversation", "kind"], name="conversation_event_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of conversation {self.conversation_id}"
