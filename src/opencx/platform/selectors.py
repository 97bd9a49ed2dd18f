"""Reads, always scoped to an actor. No view or API handler queries models directly."""

from django.db.models import Q, QuerySet

from .actor import Actor
from .errors import NotFound
from .models import ApiToken, AuditEvent, Brand, Location, Membership, Touchpoint, User


def brands_of(*, user: User) -> QuerySet[Brand]:
    return Brand.objects.filter(memberships__user=user).order_by("name").distinct()


def actors_of(*, user: User) -> list[Actor]:
    """The user's actor in every brand they belong to, in one query."""
    memberships = (
        Membership.objects.select_related("brand", "location")
        .filter(user=user)
        .order_by("brand__name")
    )
    return [Actor(user=user, brand=m.brand, membership=m) for m in memberships]


def actor_for(*, user: User, brand_slug: str) -> Actor:
    """The user's actor in a brand; a brand they do not belong to does not exist for them."""
    if not user.is_authenticated:
        raise NotFound("No such brand.")
    membership = (
        Membership.objects.select_related("brand", "location")
        .filter(user=user, brand__slug=brand_slug)
        .first()
    )
    if membership is None:
        raise NotFound("No such brand.")
    return Actor(user=user, brand=membership.brand, membership=membership)


def scope_filter(actor: Actor, location_field: str = "location") -> Q:
    """Q restricting rows carrying `brand` and `location_field` to what the actor may see.

    Feature apps build their selectors on this, so tenancy is decided in one place.
    """
    query = Q(brand=actor.brand)
    if not actor.is_brand_wide:
        query &= Q(**{f"{location_field}__path__startswith": actor.scope.path})
    return query


def locations_visible_to(actor: Actor) -> QuerySet[Location]:
    qs = Location.objects.filter(brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(path__startswith=actor.scope.path)
    return qs


def location_get(actor: Actor, *, pk: int) -> Location:
    location = locations_visible_to(actor).filter(pk=pk).first()
    if location is None:
        raise NotFound("No such location.", field="location")
    return location


def location_subtree(actor: Actor, *, location: Location) -> QuerySet[Location]:
    return locations_visible_to(actor).filter(path__startswith=location.path)


def touchpoints_of(actor: Actor) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(brand=actor.brand)


def touchpoint_get(actor: Actor, *, pk: int) -> Touchpoint:
    touchpoint = touchpoints_of(actor).filter(pk=pk).first()
    if touchpoint is None:
        raise NotFound("No such touchpoint.", field="touchpoint")
    return touchpoint


def memberships_visible_to(actor: Actor) -> QuerySet[Membership]:
    qs = Membership.objects.filter(brand=actor.brand).select_related("user", "location")
    if not actor.is_brand_wide:
        qs = qs.filter(location__path__startswith=actor.scope.path)
    return qs.order_by("user__email")


def membership_get(actor: Actor, *, pk: int) -> Membership:
    membership = memberships_visible_to(actor).filter(pk=pk).first()
    if membership is None:
        raise NotFound("No such member.", field="membership")
    return membership


def audit_events_visible_to(actor: Actor) -> QuerySet[AuditEvent]:
    """Audit trail of the brand; people with a location scope see only their own actions."""
    qs = AuditEvent.objects.filter(brand=actor.brand).select_related("actor")
    if not actor.is_brand_wide:
        qs = qs.filter(actor=actor.user)
    return qs


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
