"""API shapes for unsolicited feedback."""

from datetime import datetime
from enum import StrEnum

from ninja import Schema

from .models import FeedbackItem

# The kinds as an enum named for the OpenAPI document.
FeedbackKind = StrEnum("FeedbackKind", {value.upper(): value for value in FeedbackItem.Kind.values})


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
