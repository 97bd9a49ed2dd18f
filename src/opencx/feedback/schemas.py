"""API shapes for unsolicited feedback."""

from datetime import datetime
from enum import StrEnum

from ninja import Schema

from .models import FeedbackItem

# The kinds as an enum named for the OpenAPI document.
FeedbackKind = StrEnum("FeedbackKind", {value.upper(): value for value in FeedbackItem.Kind.values})
FeedbackSentiment = StrEnum(
    "FeedbackSentiment", {label.upper(): label for label in ("negative", "neutral", "positive")}
)


class FeedbackItemOut(Schema):
    id: int
    kind: str
    source: str
    external_id: str
    location_id: int | None
    touchpoint_id: int | None
    channel_id: int | None
    contact_id: int | None
    author: str
    rating: float | None
    rating_scale: int | None
    title: str
    text: str
    language: str
    url: str
    occurred_at: datetime
    received_at: datetime
    # Text analytics (empty until the item is analysed, see `analysed_at`).
    sentiment: str
    sentiment_score: float | None
    topics: list[str]
    keyphrases: list[str]
    analysed_at: datetime | None
    response_id: int | None


class ImportRunOut(Schema):
    id: int
    file_name: str
    file_size: int
    sha256: str
    format: str
    source: str
    mapping: dict
    status: str
    percent: int
    rows_read: int
    created: int
    already_present: int
    near_duplicates: int
    quarantined: int
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class FieldErrorOut(Schema):
    field: str
    reason: str


class QuarantinedRowOut(Schema):
    id: int
    run_id: int
    line: int
    where: str
    raw: dict
    errors: list[FieldErrorOut]
    status: str
    item_id: int | None


class QuarantineRetryIn(Schema):
    raw: dict | None = None


class RetryOut(Schema):
    stored: int
    still_open: int


class WebhookSourceIn(Schema):
    name: str
    mapping: dict | None = None


class WebhookSourceOut(Schema):
    id: int
    name: str
    key: str
    url: str
    mapping: dict
    is_active: bool
    received: int
    last_received_at: datetime | None
    created_at: datetime


class WebhookSourceCreatedOut(WebhookSourceOut):
    secret: str


class DeliveryOut(Schema):
    created: int
    already_present: int
    near_duplicates: int
    ids: list[int]
