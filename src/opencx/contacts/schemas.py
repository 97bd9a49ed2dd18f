"""API shapes for contacts and their identities."""

from datetime import datetime

from ninja import Field, Schema


class IdentityOut(Schema):
    id: int
    kind: str
    value: str
    is_primary: bool


class ContactOut(Schema):
    id: int
    name: str
    language: str
    country: str
    city: str
    home_location_id: int | None = Field(description="The store the customer belongs to")
    consent_email: bool
    consent_sms: bool
    consent_marketing: bool
    created_at: datetime


class ContactDetailOut(ContactOut):
    birth_year: int | None
    gender: str
    attributes: dict
    consent_updated_at: datetime | None
    identities: list[IdentityOut]

    @staticmethod
    def resolve_identities(contact) -> list:
        return list(contact.identities.all())
