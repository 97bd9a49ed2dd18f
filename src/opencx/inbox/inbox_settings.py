"""Admins' settings of the inboxes (MANAGE_BRAND): the list with each inbox's open
conversations, one inbox with its channel, changes to it, and its SLA targets per priority.

Reach is `selectors.inboxes_visible_to`'s (as `Actor.covers` says): a location-scoped admin
reaches only the inboxes at locations in their subtree; a brand-level inbox needs brand-wide
reach. Another brand's inbox, or one out of reach, is 404 before any capability is checked.

Writes are keyword-only, atomic and audited. Switching an inbox off keeps its conversations;
its channels stop taking messages (webhooks, the API token, the widget and the mail fetch look
for active inboxes only, and `services.message_receive` refuses an inactive one). SLA targets
go through `sla.sla_policy_set` / `sla.sla_policy_delete`, every priority in one transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields

from django.db import transaction
from django.db.models import Count

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.models import Channel, Location
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record
from opencx.platform.validation import clean_text

from . import selectors, sla
from .models import Conversation, Inbox, SlaPolicy

MAX_NAME = 120
# Leaves the inbox's location as it is (None means "the whole brand").
UNCHANGED = object()
# The inbox's channel settings, read with it on its page (one-to-one; at most one exists).
CHANNEL_TABLES = ("email", "api", "sms", "meta", "google_reviews", "web_chat")


# --- Reads -----------------------------------------------------------------------------------


def inboxes_for_settings(actor: Actor) -> list[Inbox]:
    """The inboxes the actor manages, each with `open_conversations`: how many of its
    conversations in the actor's reach are open now (two queries in all)."""
    actor.require(Capability.MANAGE_BRAND)
    inboxes = selectors.inboxes_visible_to(actor).select_related("location")
    counts = dict(
        selectors.conversations_visible_to(actor)
        .filter(inbox__in=inboxes, status=Conversation.Status.OPEN)
        .order_by()
        .values("inbox_id")
        .annotate(n=Count("pk"))
        .values_list("inbox_id", "n")
    )
    listed = list(inboxes)
    for inbox in listed:
        inbox.open_conversations = counts.get(inbox.pk, 0)
    return listed


def inbox_settings_get(actor: Actor, *, pk: int) -> Inbox:
    """One inbox with its channel settings; another brand's or out of reach is 404, and a
    member who may not manage the brand gets 403."""
    inbox = (
        selectors.inboxes_visible_to(actor)
        .select_related("location", "channel", *CHANNEL_TABLES)
        .filter(pk=pk)
        .first()
    )
    if inbox is None:
        raise NotFound("No such inbox.", field="inbox")
    actor.require(Capability.MANAGE_BRAND)
    return inbox


def sla_targets_of(actor: Actor, *, inbox: Inbox) -> dict[str, SlaPolicy]:
    """The inbox's SLA policies by priority."""
    return {policy.priority: policy for policy in sla.sla_policies_of(actor, inbox=inbox)}


# --- Changing an inbox ----------------------------------------------------------------------


def _check_inbox(actor: Actor, inbox: Inbox) -> None:
    if inbox.brand_id != actor.brand.pk or not actor.covers(inbox.location):
        raise NotFound("No such inbox.", field="inbox")
    actor.require(Capability.MANAGE_BRAND)


def _flag(value, field: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise AppError("Expected true or false.", field=field)
    return value


def inbox_update(
    *,
    actor: Actor,
    inbox: Inbox,
    name: str | None = None,
    is_active: bool | None = None,
    auto_assign: bool | None = None,
    location=UNCHANGED,
) -> Inbox:
    """Rename an inbox, move it (`location`: a Location in the actor's reach, or None for the
    whole brand), switch it on or off, or its automatic assignment; None (for `location`,
    UNCHANGED) leaves a setting as it is.

    Switching off keeps its conversations, which agents can still read and note; no new
    message comes in and no reply goes out. Moving it leaves its conversations where they
    are; new ones open at its new location. Its reporting channel follows its name and
    location when no other inbox shares that channel."""
    _check_inbox(actor, inbox)
    wanted: dict = {}
    if name is not None:
        wanted["name"] = clean_text(name, "name", required=True, limit=MAX_NAME)
    if _flag(is_active, "is_active") is not None:
        wanted["is_active"] = is_active
    if _flag(auto_assign, "auto_assign") is not None:
        wanted["auto_assign"] = auto_assign
    if location is not UNCHANGED:
        if location is not None and not isinstance(location, Location):
            raise AppError("Expected a location.", field="location")
        if not actor.covers(location):
            raise NotFound("No such location.", field="location")
        wanted["location"] = location
    with transaction.atomic():
        locked = Inbox.objects.select_for_update().get(pk=inbox.pk)
        changes = {}
        for field, value in wanted.items():
            before = getattr(locked, f"{field}_id" if field == "location" else field)
            after = value.pk if field == "location" and value is not None else value
            if before != after:
                changes[field] = [before, after]
                setattr(locked, field, value)
        if changes:
            locked.save(update_fields=list(changes))
            _follow_on_channel(locked, changes)
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="inbox.update",
                obj=locked,
                summary=locked.name,
                changes=changes,
            )
    for field in ("name", "is_active", "auto_assign", "location"):
        setattr(inbox, field, getattr(locked, field))
    return inbox


def _follow_on_channel(inbox: Inbox, changes: dict) -> None:
    """Keep the inbox's own reporting channel's name and location in step with it."""
    shared = Inbox.objects.filter(channel_id=inbox.channel_id).exclude(pk=inbox.pk).exists()
    moved = {field: getattr(inbox, field) for field in ("name", "location") if field in changes}
    if moved and not shared:
        Channel.objects.filter(pk=inbox.channel_id).update(**moved)


# --- SLA targets, every priority at once ---------------------------------------------------

TARGET_FIELDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


@dataclass(frozen=True)
class SlaRow:
    """The targets of one priority as the admin gave them; no target at all: no policy."""

    priority: str
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours: bool = True

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, field) in (None, "") for field in TARGET_FIELDS)

    def same_as(self, policy: SlaPolicy) -> bool:
        return all(
            getattr(self, field.name) == getattr(policy, field.name) for field in fields(self)
        )


def sla_row_field(priority: str, field: str | None) -> str:
    """The name an error of one row's field carries (the page's input is named so)."""
    return f"sla-{priority}-{field or TARGET_FIELDS[0]}"


def inbox_sla_save(*, actor: Actor, inbox: Inbox, rows: Iterable[SlaRow]) -> dict[str, str]:
    """Set the targets of each priority given, in one transaction: a row with no target
    deletes its policy, an unchanged row writes nothing. Returns what happened per priority
    ("set", "deleted"). An error names its row: field `sla-<priority>-<field>`, and the
    message starts with the priority; nothing is saved then."""
    _check_inbox(actor, inbox)
    rows = list(rows)
    labels = dict(Conversation.Priority.choices)
    seen = set()
    for row in rows:
        if row.priority not in labels or row.priority in seen:
            raise AppError(f"Unknown or repeated priority {row.priority!r}.", field="priority")
        seen.add(row.priority)
    done: dict[str, str] = {}
    with transaction.atomic():
        existing = {
            policy.priority: policy
            for policy in SlaPolicy.objects.select_for_update().filter(inbox=inbox)
        }
        for row in rows:
            policy = existing.get(row.priority)
            try:
                if row.is_empty:
                    if policy is not None:
                        sla.sla_policy_delete(actor=actor, policy=policy)
                        done[row.priority] = "deleted"
                    continue
                if policy is not None and row.same_as(policy):
                    continue
                sla.sla_policy_set(
                    actor=actor,
                    inbox=inbox,
                    priority=row.priority,
                    first_response_minutes=row.first_response_minutes,
                    next_response_minutes=row.next_response_minutes,
                    resolution_minutes=row.resolution_minutes,
                    business_hours=row.business_hours,
                )
                done[row.priority] = "set"
            except AppError as error:
                raise type(error)(
                    f"{labels[row.priority]} priority: {error.message}",
                    field=sla_row_field(row.priority, error.field),
                ) from error
    return done
