"""API shapes for conversations and their messages."""

from datetime import datetime
from enum import StrEnum

from ninja import Field, Schema

from .models import Conversation

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
