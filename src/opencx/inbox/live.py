"""Reads behind the agent view's live updates: a short fingerprint of the queue (it changes when
a conversation arrives, moves, is assigned or gets a message) and the messages of one
conversation after a given one. Both are scoped to the actor like every other inbox read."""

import hashlib

from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet

from opencx.platform.actor import Actor
from opencx.platform.errors import NotFound
from opencx.platform.models import Location

from .models import Conversation, Message
from .selectors import STATUS_TABS, conversations_visible_to


def _fingerprint(*values) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


# Every open queue page polls every 3 s, so 50 agents ask ~17 times a second for the same
# answer: it is shared for this long per brand, visible subtree and chosen location (the cache
# is per process, or Redis when REDIS_URL is set). The page itself always draws it fresh.
LIVE_CACHE_SECONDS = 1


def _state_key(actor: Actor, location: Location | None) -> str:
    scope = "brand" if actor.is_brand_wide else actor.scope.path
    where = location.path if location is not None else ""
    return "inbox:queue-state:" + _fingerprint(actor.brand.pk, scope, where)


def queue_state(actor: Actor, *, location: Location | None, fresh: bool = False) -> dict:
    """The queue's fingerprint and its count per status tab: one aggregate query, or none when
    the same queue was asked for less than `LIVE_CACHE_SECONDS` ago (unless `fresh`)."""
    key = _state_key(actor, location)
    if LIVE_CACHE_SECONDS and not fresh and (state := cache.get(key)) is not None:
        return state
    state = _queue_state(actor, location=location)
    if LIVE_CACHE_SECONDS:
        cache.set(key, state, LIVE_CACHE_SECONDS)
    return state


def _queue_state(actor: Actor, *, location: Location | None) -> dict:
    figures = conversations_visible_to(actor, location=location).aggregate(
        all=Count("pk"),
        newest=Max("pk"),
        latest=Max("last_activity_at"),
        assigned=Count("assignee"),
        **{status: Count("pk", filter=Q(status=status)) for status in Conversation.Status.values},
    )
    counts = {tab: figures[tab] for tab in STATUS_TABS}
    version = _fingerprint(
        *(figures[k] for k in ("all", "newest", "latest", "assigned")), *counts.values()
    )
    return {"version": version, "counts": counts}


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
