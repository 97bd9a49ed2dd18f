"""API shapes for surveys and their responses."""

from datetime import datetime

from ninja import Schema


class SurveyOut(Schema):
    id: int
    name: str
    kind: str
    touchpoint_id: int | None
    default_language: str
    is_active: bool
    created_at: datetime


class ResponseOut(Schema):
    id: int
    survey_id: int
    location_id: int
    touchpoint_id: int | None
    channel_id: int | None
    contact_id: int | None
    language: str
    created_at: datetime
    completed_at: datetime | None
    is_partial: bool
    score: int | None
    comment: str
