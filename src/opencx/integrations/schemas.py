"""API shapes for webhooks, their deliveries and the caller's notification choices."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

Kind = Literal["webhook", "slack"]
Digest = Literal["off", "daily", "weekly"]


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    kind: str
    events: list[str] = Field(description="Public event names; empty: every public event")
    is_active: bool
    secret_hint: str = Field(description="The secret's first and last characters")
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret: returned only on creation and rotation")


class WebhookCreate(Schema):
    # Defaults let the service name the missing field (url) in the usual error format.
    url: str = Field("", max_length=2000, description="http(s) URL events are POSTed to")
    name: str = Field("", max_length=120, description="Empty: the URL's host")
    kind: Kind = "webhook"
    events: list[str] = Field(default_factory=list, description="Empty: every public event")
    is_active: bool = True


class WebhookPatch(Schema):
    url: str | None = Field(None, max_length=2000)
    name: str | None = Field(None, max_length=120)
    kind: Kind | None = None
    events: list[str] | None = None
    is_active: bool | None = None


class SecretOut(Schema):
    secret: str


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event: str
    event_id: str = Field(description="The same for every endpoint and replay of the occurrence")
    status: str = Field(description="pending, sending, delivered, failed (retrying) or gave_up")
    attempts: int
    next_attempt_at: datetime | None
    response_code: int | None
    response_body: str = Field(description="The first 2 KB of the receiver's answer")
    error: str
    duration_ms: int | None
    created_at: datetime
    delivered_at: datetime | None
    replay_of_id: int | None
    payload: dict = Field(description="The JSON body sent (for chat endpoints: the event)")
    request_headers: dict = Field(description="Headers of the last attempt")


class EventOut(Schema):
    name: str
    description: str


class NotificationsOut(Schema):
    email_case_assigned: bool
    email_case_escalated: bool
    email_case_overdue: bool
    email_alerts: bool
    digest: Digest


class NotificationsIn(Schema):
    email_case_assigned: bool | None = None
    email_case_escalated: bool | None = None
    email_case_overdue: bool | None = None
    email_alerts: bool | None = None
    digest: Digest | None = None
