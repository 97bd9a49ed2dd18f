"""Reads of conversations and their messages, always scoped to an actor and chosen location."""

import re
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from opencx.contacts.models import Identity
from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.memo import Recent
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


def _filtered(
    qs: QuerySet[Conversation],
    *,
    channel_id: int | None,
    assignee: str,
    more: "QueueFilters | None" = None,
):
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    if assignee == UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif assignee.isdigit():
        qs = qs.filter(assignee_id=int(assignee))
    if more is not None:
        qs = more.apply(qs)
    return qs


def conversation_status_counts(
    actor: Actor,
    *,
    location: Location | None,
    channel_id: int | None = None,
    assignee: str = "",
    more: "QueueFilters | None" = None,
) -> dict[str, int]:
    """Number of conversations per status tab (with the other filters applied), in one query."""
    qs = _filtered(
        conversations_visible_to(actor, location=location),
        channel_id=channel_id,
        assignee=assignee,
        more=more,
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
    more: "QueueFilters | None" = None,
) -> QuerySet[Conversation]:
    """Conversations of one status tab; `assignee` is a user id or "none" for unassigned;
    `more`: labels, team, inbox, priority and search (`QueueFilters`)."""
    qs = _filtered(
        conversations_visible_to(actor, location=location),
        channel_id=channel_id,
        assignee=assignee,
        more=more,
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


# A busy API channel posts many messages a second with one token: each process keeps what a
# token opens for a few seconds instead of asking the database on every message (a four-table
# join that costs more to build than the message's own insert). An inbox switched off stops
# taking messages through its token within API_TOKEN_TTL seconds.
API_TOKEN_TTL = 5.0
_api_inboxes: Recent[Inbox] = Recent(seconds=API_TOKEN_TTL, size=1024)


def api_inbox_for_token(*, token: str) -> Inbox | None:
    """The active API inbox whose bearer token this is, or None."""
    if not token.startswith(ApiChannel.PREFIX):
        return None
    digest = ApiChannel.digest_of(token)
    if (cached := _api_inboxes.get(digest)) is not None:
        return cached
    channel = (
        ApiChannel.objects.select_related("inbox__brand", "inbox__location", "inbox__channel")
        .filter(token_digest=digest, inbox__is_active=True)
        .first()
    )
    inbox = channel.inbox if channel is not None else None
    if inbox is not None:  # unknown tokens are not remembered: a guesser cannot fill the cache
        _api_inboxes.put(digest, inbox)
    return inbox


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
    """The brand's inboxes the actor reaches: all of them for brand-wide members; for a
    location-scoped one, those at a location in their subtree (a brand-level inbox is not in a
    subtree, as `Actor.covers` says)."""
    qs = Inbox.objects.filter(brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(location__path__startswith=actor.scope.path)
    return qs.order_by("name", "pk")


# --- Queue filters: label, team, inbox, priority and search (organise.py writes them) ---------

MAX_QUERY = 200
PHONE_SEPARATORS = re.compile(r"[\s().\-/]")


def conversation_search(q: str) -> Q:
    """Conversations whose subject, any message (notes included), or customer's name, e-mail,
    phone or handle contains `q`, case-insensitively; "#123" or "123" also finds conversation
    123. Portable (LIKE on SQLite and PostgreSQL); each part is an EXISTS, so no row repeats."""
    q = q.strip()[:MAX_QUERY]
    if not q:
        return Q()
    identity = Identity.objects.filter(contact_id=OuterRef("contact_id"), value__icontains=q)
    compact = PHONE_SEPARATORS.sub("", q)
    if compact != q and len(compact) >= 3:  # "+39 02 1234" finds "+39021234"
        identity = Identity.objects.filter(
            Q(value__icontains=q) | Q(value__icontains=compact), contact_id=OuterRef("contact_id")
        )
    condition = (
        Q(subject__icontains=q)
        | Q(contact__name__icontains=q)
        | Exists(identity)
        | Exists(Message.objects.filter(conversation_id=OuterRef("pk"), body__icontains=q))
    )
    number = q.removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) < 10:
        condition |= Q(pk=int(number))
    return condition


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters beyond status, channel and assignee. Ids were checked against what
    the actor may see by the caller (`organise.queue_filters`); `team` may be "none"."""

    label_id: int | None = None
    team: str = ""
    inbox_id: int | None = None
    priority: str = ""
    q: str = ""

    def apply(self, qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
        if self.label_id is not None:
            qs = qs.filter(labels__id=self.label_id)  # one label: at most one row each
        if self.team == UNASSIGNED:
            qs = qs.filter(team__isnull=True)
        elif self.team.isdigit():
            qs = qs.filter(team_id=int(self.team))
        if self.inbox_id is not None:
            qs = qs.filter(inbox_id=self.inbox_id)
        if self.priority in Conversation.Priority.values:
            qs = qs.filter(priority=self.priority)
        if self.q.strip():
            qs = qs.filter(conversation_search(self.q))
        return qs

    def as_dict(self) -> dict:
        """The filters as a saved view stores them (only those set)."""
        values = {
            "label": self.label_id,
            "team": self.team,
            "inbox": self.inbox_id,
            "priority": self.priority,
            "q": self.q,
        }
        return {key: value for key, value in values.items() if value not in (None, "")}
