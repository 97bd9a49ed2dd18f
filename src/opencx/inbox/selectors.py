"""Reads of conversations and their messages, always scoped to an actor and chosen location."""

from django.db.models import Count, F, Prefetch, Q, QuerySet

from opencx.contacts.models import Identity
from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Channel, Location, User
from opencx.platform.roles import CAPABILITIES, Capability
from opencx.platform.selectors import scope_filter

from .models import ApiChannel, Conversation, Inbox, Message

# Tabs of the inbox, in order; "all" is every status.
STATUS_TABS = ("open", "pending", "snoozed", "resolved", "all")
UNASSIGNED = "none"
# Queues still waiting on us list the longest-waiting first; the rest newest first.
WAITING_STATUSES = (
    Conversation.Status.OPEN,
    Conversation.Status.PENDING,
    Conversation.Status.SNOOZED,
)


def conversations_visible_to(
    actor: Actor, *, location: Location | None = None
) -> QuerySet[Conversation]:
    """Conversations the actor may see, narrowed to `location`'s subtree if given."""
    qs = Conversation.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def _filtered(qs: QuerySet[Conversation], *, channel_id: int | None, assignee: str):
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    if assignee == UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif assignee.isdigit():
        qs = qs.filter(assignee_id=int(assignee))
    return qs


def conversation_status_counts(
    actor: Actor, *, location: Location | None, channel_id: int | None = None, assignee: str = ""
) -> dict[str, int]:
    """Number of conversations per status tab (with the other filters applied), in one query."""
    qs = _filtered(
        conversations_visible_to(actor, location=location),
        channel_id=channel_id,
        assignee=assignee,
    )
    counts = qs.aggregate(
        all=Count("id"),
        **{status: Count("id", filter=Q(status=status)) for status in Conversation.Status.values},
    )
    return {tab: counts[tab] for tab in STATUS_TABS}


def conversation_list(
    actor: Actor,
    *,
    location: Location | None,
    status: str = "open",
    channel_id: int | None = None,
    assignee: str = "",
) -> QuerySet[Conversation]:
    """Conversations of one status tab; `assignee` is a user id or "none" for unassigned."""
    qs = _filtered(
        conversations_visible_to(actor, location=location),
        channel_id=channel_id,
        assignee=assignee,
    )
    if status in Conversation.Status.values:
        qs = qs.filter(status=status)
    if status in WAITING_STATUSES:
        ordering = [F("waiting_since").asc(nulls_last=True), "-created_at", "-pk"]
    else:
        ordering = ["-created_at", "-pk"]
    return qs.select_related("contact", "channel", "location", "assignee").order_by(*ordering)


def channels_visible_to(actor: Actor) -> QuerySet[Channel]:
    """Channels of the brand: brand-level ones, and those in the actor's subtree."""
    qs = Channel.objects.filter(brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(Q(location__isnull=True) | Q(location__path__startswith=actor.scope.path))
    return qs.order_by("kind", "name")


def assignees_visible_to(actor: Actor) -> QuerySet[User]:
    """People conversations in the actor's reach are assigned to, for the filter's choices."""
    ids = (
        conversations_visible_to(actor)
        .filter(assignee__isnull=False)
        .values("assignee_id")
        .distinct()
    )
    return User.objects.filter(pk__in=ids).order_by("first_name", "email")


def conversation_get(actor: Actor, *, pk: int) -> Conversation:
    """One conversation with its thread; another brand's or outside the subtree is 404."""
    conversation = (
        conversations_visible_to(actor)
        .select_related("contact", "channel", "location", "assignee", "inbox")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=Message.objects.select_related("sender").order_by("created_at", "id"),
            ),
            Prefetch(
                "contact__identities",
                queryset=Identity.objects.order_by("-is_primary", "kind", "value"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if conversation is None:
        raise NotFound("No such conversation.", field="conversation")
    return conversation


# --- The API channel: reads scoped to one inbox, by its token ------------------------------


def api_inbox_for_token(*, token: str) -> Inbox | None:
    """The active API inbox whose bearer token this is, or None."""
    if not token.startswith(ApiChannel.PREFIX):
        return None
    channel = (
        ApiChannel.objects.select_related("inbox__brand", "inbox__location", "inbox__channel")
        .filter(token_digest=ApiChannel.digest_of(token), inbox__is_active=True)
        .first()
    )
    return channel.inbox if channel is not None else None


def channel_conversation_get(*, inbox: Inbox, pk: int) -> Conversation:
    """A conversation of this inbox; any other one is 404."""
    conversation = Conversation.objects.filter(inbox=inbox, pk=pk).first()
    if conversation is None:
        raise NotFound("No such conversation.", field="conversation_id")
    return conversation


def channel_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """What the customer side may see of a conversation: every message but internal notes."""
    return conversation.messages.filter(is_private=False).order_by("created_at", "pk")


def conversation_assignees(actor: Actor, *, location: Location) -> QuerySet[User]:
    """Members of the actor's brand who may reply at `location`: whom it can be assigned to."""
    roles = [role for role, caps in CAPABILITIES.items() if Capability.REPLY in caps]
    return User.objects.filter(
        Q(memberships__location__isnull=True)
        | Q(memberships__location__path__in=location.lineage_paths),
        memberships__brand=actor.brand,
        memberships__role__in=roles,
        is_active=True,
    ).order_by("first_name", "email")


def inboxes_visible_to(actor: Actor) -> QuerySet[Inbox]:
    """The brand's inboxes: brand-level ones, and those in the actor's subtree."""
    qs = Inbox.objects.filter(brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(location__path__startswith=actor.scope.path)
    return qs.order_by("name", "pk")
