"""API routes for the caller, brands, locations, touchpoints, members and the audit trail."""

from django.http import HttpRequest
from ninja import Router, Status

from opencx.api.auth import brand_actor, caller
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.api.pagination import LimitOffset, paginate

from . import selectors, services
from .actor import Actor
from .schemas import (
    AuditEventOut,
    BrandOut,
    BrandPatch,
    LocationCreate,
    LocationOut,
    LocationPatch,
    MemberInvite,
    MemberOut,
    MemberPatch,
    MeOut,
    MyBrandOut,
    TouchpointCreate,
    TouchpointOut,
    TouchpointPatch,
)

router = Router()


def actor_of(request: HttpRequest, slug: str) -> Actor:
    """The caller's actor in the brand in the path; 404 when they are not a member."""
    return brand_actor(request, slug)


def _my_brands(user) -> list[dict]:
    return [_brand_with_role(actor) for actor in selectors.actors_of(user=user)]


def _brand_with_role(actor: Actor) -> dict:
    brand = actor.brand
    scope = actor.scope
    return {
        "id": brand.pk,
        "slug": brand.slug,
        "name": brand.name,
        "default_language": brand.default_language,
        "languages": brand.languages,
        "timezone": brand.timezone,
        "created_at": brand.created_at,
        "role": actor.role,
        "scope": {"id": scope.pk, "name": scope.name} if scope else None,
    }


# --- the caller -------------------------------------------------------------------------------


@router.get("/me", response={200: MeOut, **READ_ERRORS}, tags=["me"])
def me(request):
    """The signed-in user and the brands they belong to, with role and reach."""
    user = caller(request)
    return {
        "user": {
            "id": user.pk,
            "email": user.email,
            "name": user.get_full_name(),
            "language": user.language,
        },
        "brands": _my_brands(user),
    }


# --- brands -----------------------------------------------------------------------------------


@router.get("/brands", response={200: list[MyBrandOut], **READ_ERRORS}, tags=["brands"])
@paginate(LimitOffset)
def brand_list(request):
    return _my_brands(caller(request))


@router.get("/brands/{slug}", response={200: MyBrandOut, **READ_ERRORS}, tags=["brands"])
def brand_detail(request, slug: str):
    return _brand_with_role(actor_of(request, slug))


@router.patch("/brands/{slug}", response={200: BrandOut, **WRITE_ERRORS}, tags=["brands"])
def brand_patch(request, slug: str, payload: BrandPatch):
    actor = actor_of(request, slug)
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.brand_update(actor=actor, **fields)


# --- locations --------------------------------------------------------------------------------


@router.get(
    "/brands/{slug}/locations", response={200: list[LocationOut], **READ_ERRORS}, tags=["locations"]
)
@paginate(LimitOffset)
def location_list(request, slug: str):
    """Locations in tree order (a parent before its children), limited to the caller's reach."""
    return selectors.locations_visible_to(actor_of(request, slug)).order_by("path")


@router.post(
    "/brands/{slug}/locations",
    response={201: LocationOut, **WRITE_ERRORS},
    tags=["locations"],
)
def location_create(request, slug: str, payload: LocationCreate):
    actor = actor_of(request, slug)
    fields = payload.dict(exclude_unset=True, exclude={"parent_id"})
    parent = None
    if payload.parent_id is not None:
        parent = selectors.location_get(actor, pk=payload.parent_id)
    fields = {key: value for key, value in fields.items() if value is not None}
    return Status(201, services.location_create(actor=actor, parent=parent, **fields))


@router.get(
    "/brands/{slug}/locations/{location_id}",
    response={200: LocationOut, **READ_ERRORS},
    tags=["locations"],
)
def location_detail(request, slug: str, location_id: int):
    return selectors.location_get(actor_of(request, slug), pk=location_id)


@router.patch(
    "/brands/{slug}/locations/{location_id}",
    response={200: LocationOut, **WRITE_ERRORS},
    tags=["locations"],
)
def location_patch(request, slug: str, location_id: int, payload: LocationPatch):
    actor = actor_of(request, slug)
    location = selectors.location_get(actor, pk=location_id)
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.location_update(actor=actor, location=location, **fields)


# --- touchpoints ------------------------------------------------------------------------------


@router.get(
    "/brands/{slug}/touchpoints",
    response={200: list[TouchpointOut], **READ_ERRORS},
    tags=["touchpoints"],
)
@paginate(LimitOffset)
def touchpoint_list(request, slug: str):
    return selectors.touchpoints_of(actor_of(request, slug))


@router.post(
    "/brands/{slug}/touchpoints",
    response={201: TouchpointOut, **WRITE_ERRORS},
    tags=["touchpoints"],
)
def touchpoint_create(request, slug: str, payload: TouchpointCreate):
    actor = actor_of(request, slug)
    return Status(201, services.touchpoint_create(actor=actor, **payload.dict()))


@router.patch(
    "/brands/{slug}/touchpoints/{touchpoint_id}",
    response={200: TouchpointOut, **WRITE_ERRORS},
    tags=["touchpoints"],
)
def touchpoint_patch(request, slug: str, touchpoint_id: int, payload: TouchpointPatch):
    actor = actor_of(request, slug)
    touchpoint = selectors.touchpoint_get(actor, pk=touchpoint_id)
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.touchpoint_update(actor=actor, touchpoint=touchpoint, **fields)


# --- members ----------------------------------------------------------------------------------


def _location_or_none(actor: Actor, location_id: int | None):
    return None if location_id is None else selectors.location_get(actor, pk=location_id)


@router.get(
    "/brands/{slug}/members", response={200: list[MemberOut], **READ_ERRORS}, tags=["members"]
)
@paginate(LimitOffset)
def member_list(request, slug: str):
    return selectors.memberships_visible_to(actor_of(request, slug))


@router.post("/brands/{slug}/members", response={201: MemberOut, **WRITE_ERRORS}, tags=["members"])
def member_invite(request, slug: str, payload: MemberInvite):
    """Give someone a role; a new e-mail address gets an account and a set-password link."""
    actor = actor_of(request, slug)
    location = _location_or_none(actor, payload.location_id)
    invitation = services.membership_invite(
        actor=actor, email=payload.email, role=payload.role, location=location
    )
    return Status(201, invitation.membership)


@router.patch(
    "/brands/{slug}/members/{member_id}",
    response={200: MemberOut, **WRITE_ERRORS},
    tags=["members"],
)
def member_patch(request, slug: str, member_id: int, payload: MemberPatch):
    actor = actor_of(request, slug)
    membership = selectors.membership_get(actor, pk=member_id)
    location = _location_or_none(actor, payload.location_id)
    return services.membership_change(
        actor=actor, membership=membership, role=payload.role, location=location
    )


@router.delete(
    "/brands/{slug}/members/{member_id}",
    response={204: None, **WRITE_ERRORS},
    tags=["members"],
)
def member_delete(request, slug: str, member_id: int):
    actor = actor_of(request, slug)
    membership = selectors.membership_get(actor, pk=member_id)
    services.membership_remove(actor=actor, membership=membership)
    return Status(204, None)


# --- audit trail ------------------------------------------------------------------------------


@router.get(
    "/brands/{slug}/audit-events",
    response={200: list[AuditEventOut], **READ_ERRORS},
    tags=["audit"],
)
@paginate(LimitOffset)
def audit_event_list(request, slug: str):
    """Newest first. Members with a location scope see only their own actions."""
    return selectors.audit_events_visible_to(actor_of(request, slug))
