"""API shapes of personal invitations."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

MAX_RECIPIENTS = 500


class Recipient(Schema):
    """A person to invite, found by e-mail or phone among the brand's contacts or added."""

    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32, description="International form, e.g. +447700900123")
    name: str = Field("", max_length=200)
    language: str = Field("", max_length=8, description="e.g. it, en, cy")
    consent: bool = Field(
        False,
        description="The customer agreed to be contacted on the given channels; applies only "
        "when the contact is new (an existing contact keeps the consent on record)",
    )


class InvitationCreate(Schema):
    via: Literal["email", "sms"] = "email"
    location_id: int | None = Field(
        None,
        description="Where the experience happened; default: each contact's home location "
        "(required for new recipients)",
    )
    touchpoint_id: int | None = Field(None, description="Default: the survey's touchpoint")
    contact_ids: list[int] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    recipients: list[Recipient] = Field(default_factory=list, max_length=MAX_RECIPIENTS)


class InvitationResult(Schema):
    contact_id: int
    contact_created: bool
    invitation_id: int
    status: str = Field(description="queued (it will be sent) or skipped")
    skip_reason: str


class InvitationBatchOut(Schema):
    queued: int
    skipped: int
    results: list[InvitationResult]


class InvitationOut(Schema):
    id: int
    survey_id: int
    contact_id: int
    contact_name: str = Field(alias="contact.name")
    location_id: int
    touchpoint_id: int | None
    via: str
    address: str
    language: str
    status: str
    skip_reason: str
    error: str
    created_at: datetime
    sent_at: datetime | None
    opened_at: datetime | None
    reminded_at: datetime | None
    responded_at: datetime | None
