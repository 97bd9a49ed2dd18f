"""Who answers conversations: the members who may reply, each with their availability, capacity,
open conversations and last assignment. Reads only, actor-scoped like the members page
(`platform.selectors.memberships_visible_to`); the one write is `services.agent_status_set`.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from opencx.platform.actor import Actor
from opencx.platform.db import column_sql, table_sql
from opencx.platform.errors import NotFound
from opencx.platform.models import Location, Membership
from opencx.platform.roles import Capability
from opencx.platform.selectors import memberships_visible_to

from .models import AgentStatus, Conversation
from .services import REPLY_ROLES

DEFAULT_CAPACITY = AgentStatus._meta.get_field("capacity").default
MAX_CAPACITY = 1000  # as agent_status_set checks


def _status_of(brand_id: int, field: str, output_field):
    return Subquery(
        AgentStatus.objects.filter(brand_id=brand_id, user_id=OuterRef("user_id")).values(field)[
            :1
        ],
        output_field=output_field,
    )


def _open_now(brand_id: int):
    """Open conversations assigned to the member in the whole brand: what capacity counts."""
    return Subquery(
        Conversation.objects.filter(
            brand_id=brand_id, assignee_id=OuterRef("user_id"), status=Conversation.Status.OPEN
        )
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def agents_visible_to(actor: Actor, *, location: Location | None = None) -> QuerySet[Membership]:
    """Active members who may reply, within the actor's reach (and under `location`, the one
    picked in the switcher, as the members page does), annotated with `available`, `capacity`,
    `open_now` and `last_assigned_at`. A member who never set a status is away, with the
    default capacity."""
    brand_id = actor.brand.pk
    qs = memberships_visible_to(actor).filter(role__in=REPLY_ROLES, user__is_active=True)
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs.annotate(
        available=Coalesce(
            _status_of(brand_id, "available", BooleanField()),
            Value(False),
            output_field=BooleanField(),
        ),
        capacity=Coalesce(
            _status_of(brand_id, "capacity", IntegerField()),
            Value(DEFAULT_CAPACITY),
            output_field=IntegerField(),
        ),
        last_assigned_at=_status_of(brand_id, "last_assigned_at", DateTimeField()),
        open_now=Coalesce(_open_now(brand_id), Value(0), output_field=IntegerField()),
    ).order_by("user__first_name", "user__email", "pk")


def agent_get(actor: Actor, *, user_id: int) -> Membership:
    """One agent in the actor's reach, annotated as in `agents_visible_to`; 404 otherwise
    (another brand's member, someone outside the actor's subtree, or a member who may not
    reply)."""
    membership = agents_visible_to(actor).filter(user_id=user_id).first()
    if membership is None:
        raise NotFound("No such agent.", field="user_id")
    return membership


@dataclass(frozen=True)
class Availability:
    available: bool
    capacity: int
    open_now: int


_MY_STATUS = (
    f"FROM {table_sql(AgentStatus)} WHERE {column_sql(AgentStatus, 'brand')} = %s"
    f" AND {column_sql(AgentStatus, 'user')} = %s"
)
# One statement, written out: every queue load draws the toggle, and through
# `agents_visible_to` (four correlated subqueries, compiled on every load) it was a sixth of
# the page's CPU.
_MY_AVAILABILITY = (
    f"SELECT (SELECT {column_sql(AgentStatus, 'available')} {_MY_STATUS}),"
    f" (SELECT {column_sql(AgentStatus, 'capacity')} {_MY_STATUS}),"
    f" (SELECT COUNT(*) FROM {table_sql(Conversation)}"
    f" WHERE {column_sql(Conversation, 'brand')} = %s"
    f" AND {column_sql(Conversation, 'assignee')} = %s"
    f" AND {column_sql(Conversation, 'status')} = %s)"
)


def my_availability(actor: Actor) -> Availability | None:
    """The actor's own availability, capacity and open conversations, as `agents_visible_to`
    gives them (for the queue's toggle); None when they may not reply."""
    if not actor.can(Capability.REPLY) or not actor.user.is_active:
        return None
    brand_id, user_id = actor.brand.pk, actor.user.pk
    with connection.cursor() as cursor:
        cursor.execute(
            _MY_AVAILABILITY,
            [brand_id, user_id, brand_id, user_id, brand_id, user_id, Conversation.Status.OPEN],
        )
        available, capacity, open_now = cursor.fetchone()
    return Availability(
        available=bool(available),
        capacity=DEFAULT_CAPACITY if capacity is None else capacity,
        open_now=open_now,
    )
