"""API shapes for surveys and their responses."""

from datetime import datetime

from ninja import Field, Schema


class SurveyOut(Schema):
    id: int
    slug: str
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


# --- Definitions (builder API) ---


class SurveyFromTemplate(Schema):
    """A new survey from a shipped template (see GET /brands/{slug}/survey-templates)."""

    template: str = Field("nps", max_length=40, description="The template's slug")
    name: str = Field("", max_length=200, description="Empty: the template's name")


class SurveyTemplateOut(Schema):
    slug: str
    name: str
    kind: str
    languages: list[str]
    questions: int
