"""Reads behind the agent view's live updates: a short fingerprint of the rows a queue page
shows (it changes when a row arrives, leaves, moves or
shows something else, not when a customer writes again in a conversation already waiting) and
the messages of one conversation after a given one. All scoped to the actor like every other
inbox read."""

import hashlib
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location

from .models import Conversation, Message
from .selectors import conversations_visible_to
from .sla import warning_of

# What a queue row shows (views.py, conversation_list.html), as fields of the conversation.
ROW_FIELDS = (
    "id",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "subject",
    "contact_id",
    "channel_id",
    "location_id",
    "created_at",
    "waiting_since",
    "first_reply_at",
    "sla_policy_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
)


def _fingerprint(*values) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


# Every open queue page polls every 3 s, so 50 agents ask ~17 times a second for the same
# answer: it is shared for this long per page (the cache is per process, or Redis when
# REDIS_URL is set). The page itself always draws it fresh.
LIVE_CACHE_SECONDS = 1


def rows_version(conversations: Iterable[Conversation]) -> str:
    """The fingerprint of a page of queue rows: their fields and service-level badge now."""
    now = timezone.now()
    return _fingerprint(
        *(
            (*(getattr(c, field) for field in ROW_FIELDS), warning_of(c, now=now))
            for c in conversations
        )
    )


def page_state(key: str, read: Callable[[], dict], *, fresh: bool = False) -> dict:
    """A queue page's live state (`read()`), shared for `LIVE_CACHE_SECONDS` by the polls of
    the same page (`key`: who may see what, and the page's address); `fresh` reads it again
    and shares that."""
    key = "inbox:page-state:" + _fingerprint(key)
    if LIVE_CACHE_SECONDS and not fresh and (state := cache.get(key)) is not None:
        return state
    state = read()
    if LIVE_CACHE_SECONDS:
        cache.set(key, state, LIVE_CACHE_SECONDS)
    return state


def page_key(actor: Actor, location: Location | None, query: Iterable[tuple[str, str]]) -> str:
    """Who sees the same queue page: the brand, the actor's subtree, the chosen location and
    the page's filters."""
    scope = "brand" if actor.is_brand_wide else actor.scope.path
    where = location.path if location is not None else ""
    return repr((actor.brand.pk, scope, where, sorted(query)))


def live_conversation(actor: Actor, *, pk: int) -> Conversation:
    """A conversation the actor may see (no thread prefetched); 404 otherwise."""
    conversation = (
        conversations_visible_to(actor).select_related("contact", "inbox").filter(pk=pk).first()
    )
    if conversation is None:
        raise NotFound("No such conversation.", field="conversation")
    return conversation


def messages_after(conversation: Conversation, *, after: int, limit: int = 100) -> QuerySet:
    """The conversation's messages (internal notes too: agents see them) after message `after`."""
    return (
        Message.objects.filter(conversation=conversation, pk__gt=after)
        .select_related("sender")
        .order_by("pk")[:limit]
    )


def conversation_version(conversation: Conversation) -> str:
    """Changes when the conversation's status, priority, assignee or team changes."""
    return _fingerprint(
        conversation.status,
        conversation.priority,
        conversation.assignee_id,
        conversation.team_id,
        conversation.snoozed_until,
        conversation.first_reply_at,
    )
