"""API routes for the inbox's settings: agents' availability and capacity (what automatic
assignment reads) and each inbox's service-level policies per priority."""

from datetime import datetime

from ninja import Field, Router, Schema, Status

from opencx.api.auth import requiring
from opencx.api.errors import READ_ERRORS, WRITE_ERRORS
from opencx.api.pagination import LimitOffset, paginate
from opencx.platform.actor import Actor
from opencx.platform.api import actor_of
from opencx.platform.errors import NotFound
from opencx.platform.roles import Capability

from . import agents, selectors, services, sla
from .models import Conversation, Inbox

router = Router(tags=["inbox settings"])
REPLY = requiring(Capability.REPLY)
MANAGE_MEMBERS = requiring(Capability.MANAGE_MEMBERS)
MANAGE_BRAND = requiring(Capability.MANAGE_BRAND)
PRIORITY_ORDER = {priority: n for n, priority in enumerate(Conversation.Priority.values)}


# --- Schemas ---------------------------------------------------------------------------------


class AgentScopeOut(Schema):
    id: int
    name: str


class AgentOut(Schema):
    user_id: int
    email: str = Field(alias="user.email")
    name: str
    role: str
    location: AgentScopeOut | None = Field(description="Null: the whole brand")
    available: bool = Field(description="Takes new conversations (automatic assignment)")
    capacity: int = Field(description="Open conversations at most; assignment stops there")
    open_conversations: int = Field(
        alias="open_now", description="Open conversations assigned now, in the whole brand"
    )
    last_assigned_at: datetime | None

    @staticmethod
    def resolve_name(membership) -> str:
        return membership.user.get_full_name()


class AgentStatusIn(Schema):
    available: bool | None = Field(None, description="Omitted or null: unchanged")
    capacity: int | None = Field(
        None, description=f"0 to {agents.MAX_CAPACITY}; omitted or null: unchanged"
    )


class InboxSlaPolicyOut(Schema):
    priority: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool


class InboxSlaPolicyIn(Schema):
    first_response_minutes: int | None = Field(
        None, description=f"1 to {sla.MAX_MINUTES}; null: no target"
    )
    next_response_minutes: int | None = Field(
        None, description=f"1 to {sla.MAX_MINUTES}; null: no target"
    )
    resolution_minutes: int | None = Field(
        None, description=f"1 to {sla.MAX_MINUTES}; null: no target"
    )
    business_hours: bool = Field(
        True, description="Count the minutes in the location's opening hours (else round the clock)"
    )


# --- Agents ----------------------------------------------------------------------------------


@router.get("/brands/{slug}/agents", response={200: list[AgentOut], **READ_ERRORS})
@paginate(LimitOffset)
def agent_list(request, slug: str):
    """Members in your reach who may reply, with their availability, capacity and open
    conversations. A member who never set a status is away."""
    return agents.agents_visible_to(actor_of(request, slug))


def _set(actor: Actor, payload: AgentStatusIn, *, user=None):
    services.agent_status_set(
        actor=actor, user=user, available=payload.available, capacity=payload.capacity
    )


@router.put("/brands/{slug}/agents/me", response={200: AgentOut, **WRITE_ERRORS}, auth=REPLY)
def agent_me_put(request, slug: str, payload: AgentStatusIn):
    """Your own availability and capacity (members who may reply)."""
    actor = actor_of(request, slug)
    _set(actor, payload)
    return agents.agent_get(actor, user_id=actor.user.pk)


@router.put(
    "/brands/{slug}/agents/{user_id}",
    response={200: AgentOut, **WRITE_ERRORS},
    auth=MANAGE_MEMBERS,
)
def agent_put(request, slug: str, user_id: int, payload: AgentStatusIn):
    """Anyone's availability and capacity (members who manage members; an agent outside your
    reach is 404)."""
    actor = actor_of(request, slug)
    agent = agents.agent_get(actor, user_id=user_id)
    _set(actor, payload, user=agent.user)
    return agents.agent_get(actor, user_id=user_id)


# --- Service-level policies of an inbox ------------------------------------------------------


def _inbox(actor: Actor, inbox_id: int) -> Inbox:
    inbox = selectors.inboxes_visible_to(actor).filter(pk=inbox_id).first()
    if inbox is None:
        raise NotFound("No such inbox.", field="inbox_id")
    return inbox


@router.get(
    "/brands/{slug}/inboxes/{inbox_id}/sla-policies",
    response={200: list[InboxSlaPolicyOut], **READ_ERRORS},
)
def inbox_sla_policy_list(request, slug: str, inbox_id: int):
    """The inbox's policies, one per priority that has one (low to urgent)."""
    actor = actor_of(request, slug)
    policies = sla.sla_policies_of(actor, inbox=_inbox(actor, inbox_id))
    return sorted(policies, key=lambda policy: PRIORITY_ORDER.get(policy.priority, 99))


@router.put(
    "/brands/{slug}/inboxes/{inbox_id}/sla-policies/{priority}",
    response={200: InboxSlaPolicyOut, **WRITE_ERRORS},
    auth=MANAGE_BRAND,
)
def inbox_sla_policy_put(
    request, slug: str, inbox_id: int, priority: str, payload: InboxSlaPolicyIn
):
    """Create or replace the targets of one priority (`low`, `normal`, `high`, `urgent`): at
    least one target; resolution not before the first response. Conversations already open
    keep their due moments until their priority changes."""
    actor = actor_of(request, slug)
    return sla.sla_policy_set(
        actor=actor, inbox=_inbox(actor, inbox_id), priority=priority, **payload.dict()
    )


@router.delete(
    "/brands/{slug}/inboxes/{inbox_id}/sla-policies/{priority}",
    response={204: None, **WRITE_ERRORS},
    auth=MANAGE_BRAND,
)
def inbox_sla_policy_delete(request, slug: str, inbox_id: int, priority: str):
    """Remove one priority's policy: conversations started from now on have no targets there."""
    actor = actor_of(request, slug)
    inbox = _inbox(actor, inbox_id)
    policy = sla.sla_policies_of(actor, inbox=inbox).filter(priority=priority).first()
    if policy is None:
        raise NotFound(f"This inbox has no policy for priority {priority!r}.", field="priority")
    sla.sla_policy_delete(actor=actor, policy=policy)
    return Status(204, None)
