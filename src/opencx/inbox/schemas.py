"""API shapes for conversations and their messages."""

from datetime import datetime
from enum import StrEnum

from ninja import Field, Schema

from .models import Conversation
from .services import MAX_BODY

# The statuses as an enum named for the OpenAPI document.
ConversationStatus = StrEnum(
    "ConversationStatus", {value.upper(): value for value in Conversation.Status.values}
)


class ConversationOut(Schema):
    id: int
    subject: str
    status: str
    priority: str
    location_id: int
    channel_id: int
    contact_id: int | None
    assignee_id: int | None
    created_at: datetime
    first_reply_at: datetime | None
    waiting_since: datetime | None
    resolved_at: datetime | None


class MessageOut(Schema):
    id: int
    direction: str = Field(description='"in" from the customer, "out" to the customer')
    sender_kind: str
    sender_id: int | None
    is_private: bool = Field(description="An internal note between agents, never sent")
    body: str
    created_at: datetime


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(conversation) -> list:
        return list(conversation.messages.all())


# --- The API channel -----------------------------------------------------------------------

MAX_CLIENT_ID = 200


class ChannelContactIn(Schema):
    email: str = Field("", max_length=254, description="The customer's e-mail address")
    phone: str = Field("", max_length=32, description="Or their phone number, international")
    name: str = Field("", max_length=200)


class ChannelMessageIn(Schema):
    id: str = Field(
        min_length=1,
        max_length=MAX_CLIENT_ID,
        description="Your id for this message: sending the same id again stores nothing new",
    )
    body: str = Field(min_length=1, max_length=MAX_BODY)
    sent_at: datetime | None = Field(None, description="When the customer wrote it")


class ChannelConversationIn(Schema):
    contact: ChannelContactIn
    subject: str = Field("", max_length=300)
    message: ChannelMessageIn


class ChannelMessageOut(Schema):
    id: int
    client_id: str = Field(
        description="Your id for a message you sent in; ours for replies", default=""
    )
    conversation_id: int
    direction: str = Field(description='"in" from the customer, "out" to the customer')
    sender_kind: str
    body: str
    delivery_status: str
    created_at: datetime

    @staticmethod
    def resolve_client_id(message) -> str:
        return message.provider_message_id


class ChannelConversationOut(Schema):
    id: int
    status: str
    subject: str
    created_at: datetime
    message: ChannelMessageOut = Field(description="The message this request stored (or found)")


# --- Setting up inboxes --------------------------------------------------------------------


class InboxOut(Schema):
    id: int
    name: str
    kind: str
    location_id: int | None = Field(description="Empty: a brand-level inbox")
    channel_id: int
    is_active: bool
    auto_assign: bool
    created_at: datetime


class EmailInboxIn(Schema):
    name: str = Field(max_length=120)
    location_id: int | None = None
    address: str = Field(max_length=254, description="The address customers write to")
    imap_host: str = Field(max_length=255)
    imap_port: int = 993
    imap_ssl: bool = Field(True, description="Implicit TLS; off: plain, with STARTTLS if offered")
    imap_user: str = Field(max_length=255)
    imap_password: str = Field("", max_length=255)
    imap_folder: str = Field("INBOX", max_length=255)
    smtp_host: str = Field(max_length=255)
    smtp_port: int = Field(587, description="465 means implicit TLS")
    smtp_starttls: bool = True
    smtp_user: str = Field("", max_length=255)
    smtp_password: str = Field("", max_length=255)


class ApiInboxIn(Schema):
    name: str = Field(max_length=120)
    location_id: int | None = None
    webhook_url: str = Field("", max_length=200, description="Replies are POSTed here, signed")


class ApiInboxCreatedOut(InboxOut):
    token: str = Field(description="The inbox's bearer token: shown once, store it now")
    webhook_secret: str = Field(description="Signs the webhook POSTs (empty without a webhook)")


# --- SMS, Facebook/Instagram and Google reviews inboxes ------------------------------------


class SmsInboxIn(Schema):
    name: str = Field(max_length=120)
    location_id: int | None = None
    phone_number: str = Field(max_length=32, description="The number customers text, E.164")
    account_sid: str = Field(max_length=64, description="The provider account's SID")
    auth_token: str = Field(max_length=128, description="Sends replies and signs webhooks")
    api_base_url: str = Field(
        "https://api.twilio.com", max_length=200, description="Another Twilio-compatible API"
    )


class MetaPlatform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


class MetaInboxIn(Schema):
    name: str = Field(max_length=120)
    location_id: int | None = None
    platform: MetaPlatform
    page_id: str = Field(max_length=64, description="The page's (or Instagram account's) id")
    app_secret: str = Field(max_length=128, description="The Meta app's secret: signs webhooks")
    page_access_token: str = Field(max_length=512, description="Sends replies")
    verify_token: str = Field(
        "", max_length=128, description="For Meta's subscription check; empty: one is made"
    )
    graph_base_url: str = Field("https://graph.facebook.com/v19.0", max_length=200)


class GoogleReviewsInboxIn(Schema):
    name: str = Field(max_length=120)
    location_id: int | None = None
    account_id: str = Field(max_length=64, description="The Business Profile account's id")
    listing_id: str = Field(max_length=64, description="Google's location id of the listing")
    access_token: str = Field(
        "", max_length=512, description="OAuth token with the business.manage scope"
    )
    api_base_url: str = Field("https://mybusiness.googleapis.com/v4", max_length=200)


class WebhookInboxCreatedOut(InboxOut):
    webhook_url: str = Field(
        description="Paste into the provider: where it sends messages (for Google reviews, "
        "the Pub/Sub push endpoint, with its secret: keep it private)"
    )
    status_callback_url: str = Field("", description="SMS: where delivery reports go (we set it)")
    verify_token: str = Field("", description="Facebook/Instagram: paste as the verify token")
