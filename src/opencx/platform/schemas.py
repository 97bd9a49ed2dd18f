"""API shapes for brands, locations, touchpoints, members and the audit trail."""

from datetime import datetime

from ninja import Field, Schema


class ScopeOut(Schema):
    id: int
    name: str


class BrandOut(Schema):
    id: int
    slug: str
    name: str
    default_language: str
    languages: list[str]
    timezone: str
    created_at: datetime


class MyBrandOut(BrandOut):
    role: str
    scope: ScopeOut | None = Field(description="Location subtree the role covers; null: all")


class UserOut(Schema):
    id: int
    email: str
    name: str
    language: str


class MeOut(Schema):
    user: UserOut
    brands: list[MyBrandOut]


class BrandPatch(Schema):
    name: str | None = None
    default_language: str | None = None
    languages: list[str] | None = None
    timezone: str | None = None


class LocationOut(Schema):
    id: int
    parent_id: int | None
    depth: int = Field(description="0 for top-level locations")
    path: str
    name: str
    code: str
    kind: str
    country: str
    city: str
    address: str
    timezone: str
    languages: list[str]
    opening_hours: dict = Field(description='Weekday ("0"=Monday) to [["HH:MM","HH:MM"]]')
    review_url: str
    is_active: bool


class LocationCreate(Schema):
    name: str
    code: str = ""
    parent_id: int | None = None
    kind: str | None = None
    country: str | None = None
    city: str | None = None
    address: str | None = None
    timezone: str | None = None
    languages: list[str] | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    review_url: str | None = None
    is_active: bool | None = None


class LocationPatch(Schema):
    name: str | None = None
    code: str | None = None
    kind: str | None = None
    country: str | None = None
    city: str | None = None
    address: str | None = None
    timezone: str | None = None
    languages: list[str] | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    review_url: str | None = None
    is_active: bool | None = None


class TouchpointOut(Schema):
    id: int
    key: str
    name: str
    description: str
    is_active: bool
    position: int


class TouchpointCreate(Schema):
    name: str
    key: str = ""
    description: str = ""


class TouchpointPatch(Schema):
    name: str | None = None
    description: str | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0)


class MemberOut(Schema):
    id: int
    user_id: int
    email: str = Field(alias="user.email")
    name: str
    role: str
    location: ScopeOut | None
    created_at: datetime

    @staticmethod
    def resolve_name(membership) -> str:
        return membership.user.get_full_name()


class MemberInvite(Schema):
    email: str
    role: str
    location_id: int | None = None


class MemberPatch(Schema):
    role: str
    location_id: int | None = None


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor_email: str | None
    action: str
    object_type: str
    object_id: str
    summary: str
    changes: dict

    @staticmethod
    def resolve_actor_email(event) -> str | None:
        return event.actor.email if event.actor_id else None
