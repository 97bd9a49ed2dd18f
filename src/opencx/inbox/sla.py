"""Service levels of the inbox: policies per inbox and priority, due moments, breaches.

A policy (`SlaPolicy`) gives up to three targets in minutes: first response (from the start),
next response (from the moment the customer writes again after our first reply) and resolution
(from the start; from the reopening when a conversation opens again). With `business_hours`
they are counted in the location's opening hours and time zone
(`insights.facade.business_deadline`, as cases do), else around the clock.

The services call the `on_*` functions inside their transactions; `conversations_check_sla`
(`opencx check_inbox_sla`, every minute from the worker) marks each missed target once, writes a
`sla_breach` event and tells the assignee (or, with nobody assigned, the inbox's team members)
after commit. A reply or resolution that comes late is marked as a breach at that moment too,
so the record never depends on when the check last ran.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from opencx.insights.facade import business_deadline
from opencx.platform.actor import Actor
from opencx.platform.db import column_sql, first_by_sql, table_sql
from opencx.platform.errors import AppError, NotFound
from opencx.platform.events import emit
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from . import events
from .models import Conversation, ConversationEvent, Inbox, SlaPolicy

SLA_BREACHED = "inbox.sla_breached"
TARGETS = ("first_response", "next_response", "resolution")
TARGET_LABELS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}
MAX_MINUTES = 60 * 24 * 90  # ninety days
DUE_SOON = timedelta(minutes=30)  # the queue warns this long before a target falls due
S = Conversation.Status


# --- Policies --------------------------------------------------------------------------------


def _check_inbox(actor: Actor, inbox: Inbox) -> None:
    if inbox.brand_id != actor.brand.pk or not actor.covers(inbox.location):
        raise NotFound("No such inbox.", field="inbox")
    actor.require(Capability.MANAGE_BRAND)


def _minutes(value, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        raise AppError(f"Minutes from 1 to {MAX_MINUTES}, or empty for no target.", field=field)
    return value


def sla_policy_set(
    *,
    actor: Actor,
    inbox: Inbox,
    priority: str,
    first_response_minutes: int | None = None,
    next_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    business_hours: bool = True,
) -> SlaPolicy:
    """Create or replace the targets of one inbox for one priority. Conversations already
    open keep their due moments until their priority changes."""
    _check_inbox(actor, inbox)
    if priority not in Conversation.Priority.values:
        raise AppError(f"Unknown priority {priority!r}.", field="priority")
    minutes = {
        "first_response_minutes": _minutes(first_response_minutes, "first_response_minutes"),
        "next_response_minutes": _minutes(next_response_minutes, "next_response_minutes"),
        "resolution_minutes": _minutes(resolution_minutes, "resolution_minutes"),
    }
    if not any(minutes.values()):
        raise AppError("Give at least one target.", field="first_response_minutes")
    first, resolve = minutes["first_response_minutes"], minutes["resolution_minutes"]
    if first and resolve and resolve < first:
        raise AppError(
            "Resolution cannot be due before the first response.", field="resolution_minutes"
        )
    with transaction.atomic():
        policy, created = SlaPolicy.objects.update_or_create(
            inbox=inbox,
            priority=priority,
            defaults={**minutes, "business_hours": bool(business_hours)},
        )
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="inbox_sla_policy.set",
            obj=policy,
            changes={"priority": priority, **minutes, "business_hours": bool(business_hours)},
        )
    return policy


def sla_policy_delete(*, actor: Actor, policy: SlaPolicy) -> None:
    _check_inbox(actor, policy.inbox)
    with transaction.atomic():
        audit_record(
            actor_user=actor.user, brand=actor.brand, action="inbox_sla_policy.delete", obj=policy
        )
        policy.delete()


def sla_policies_of(actor: Actor, *, inbox: Inbox):
    """The inbox's policies (actor-scoped: another brand's inbox is 404)."""
    if inbox.brand_id != actor.brand.pk or not actor.covers(inbox.location):
        raise NotFound("No such inbox.", field="inbox")
    return SlaPolicy.objects.filter(inbox=inbox).order_by("priority")


# --- Due moments -----------------------------------------------------------------------------


# Read for every new conversation, by hand (first_by_sql); one per inbox and priority.
_POLICY = (
    f"SELECT * FROM {table_sql(SlaPolicy)} WHERE {column_sql(SlaPolicy, 'inbox')} = %s"
    f" AND {column_sql(SlaPolicy, 'priority')} = %s"
)


def _policy_for(conversation: Conversation) -> SlaPolicy | None:
    if conversation.inbox_id is None:
        return None
    return first_by_sql(SlaPolicy, _POLICY, [conversation.inbox_id, conversation.priority])


def due_after(
    conversation: Conversation, policy: SlaPolicy, start: datetime, minutes
) -> datetime | None:
    if not minutes:
        return None
    if not policy.business_hours:
        return start + timedelta(minutes=minutes)
    location = conversation.location
    return business_deadline(
        start=start,
        hours=minutes / 60,
        timezone_name=location.timezone,
        opening_hours=location.opening_hours,
    )


def _save(conversation: Conversation, *fields: str) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        **{field: getattr(conversation, field) for field in fields}
    )


def apply_policy(conversation: Conversation, *, save: bool = True) -> None:
    """Put the policy for the conversation's inbox and priority in force and (re)compute every
    due moment from its starting point; a conversation with no policy has no due moments.
    `save=False` only sets the fields (a conversation about to be created)."""
    policy = _policy_for(conversation)
    conversation.sla_policy = policy
    if policy is None:
        conversation.first_response_due_at = None
        conversation.next_response_due_at = None
        conversation.resolution_due_at = None
    else:
        conversation.first_response_due_at = due_after(
            conversation, policy, conversation.created_at, policy.first_response_minutes
        )
        waiting = conversation.first_reply_at is not None and conversation.waiting_since
        conversation.next_response_due_at = (
            due_after(
                conversation, policy, conversation.waiting_since, policy.next_response_minutes
            )
            if waiting and conversation.status != S.RESOLVED
            else None
        )
        conversation.resolution_due_at = due_after(
            conversation, policy, conversation.created_at, policy.resolution_minutes
        )
    if not save:
        return
    _save(
        conversation,
        "sla_policy",
        "first_response_due_at",
        "next_response_due_at",
        "resolution_due_at",
    )


def on_customer_message(
    conversation: Conversation, *, at: datetime, opened: bool, reopened: bool
) -> None:
    """A new conversation gets its policy (`message_receive` sets it before creating one); a
    customer writing after our first reply starts the next-response clock (once per wait); a
    reopened one gets a fresh resolution clock."""
    if opened:
        apply_policy(conversation)
        return
    if conversation.sla_policy_id is None:
        return
    policy = conversation.sla_policy
    if policy is None:
        return
    fields = []
    if reopened and policy.resolution_minutes and conversation.resolution_breached_at is None:
        conversation.resolution_due_at = due_after(
            conversation, policy, at, policy.resolution_minutes
        )
        fields.append("resolution_due_at")
    if conversation.first_reply_at is not None and conversation.next_response_due_at is None:
        conversation.next_response_due_at = due_after(
            conversation, policy, conversation.waiting_since or at, policy.next_response_minutes
        )
        fields.append("next_response_due_at")
    if fields:
        _save(conversation, *fields)


def _late(conversation: Conversation, target: str, *, at: datetime, due: datetime | None) -> bool:
    """Mark a target missed at `at` if it was due before and not marked yet for that due."""
    if due is None or at <= due:
        return False
    marked = getattr(conversation, f"{target}_breached_at")
    if marked is not None and marked >= due:
        return False
    setattr(conversation, f"{target}_breached_at", at)
    _save(conversation, f"{target}_breached_at")
    events.record(conversation, ConversationEvent.Kind.SLA_BREACH, at=due, detail=target)
    return True


def on_agent_reply(conversation: Conversation, *, at: datetime) -> None:
    """A public reply: a late first or next response is recorded as missed; the customer no
    longer waits, so no next response is due."""
    if conversation.first_reply_at == at:
        _late(conversation, "first_response", at=at, due=conversation.first_response_due_at)
    _late(conversation, "next_response", at=at, due=conversation.next_response_due_at)
    if conversation.next_response_due_at is not None:
        conversation.next_response_due_at = None
        _save(conversation, "next_response_due_at")


def on_status_change(conversation: Conversation, *, before: str, at: datetime) -> None:
    """Resolving stops the next-response clock (a late resolution is recorded as missed);
    reopening starts a fresh resolution clock unless the target was missed already."""
    policy = conversation.sla_policy
    if conversation.status == S.RESOLVED and before != S.RESOLVED:
        _late(conversation, "resolution", at=at, due=conversation.resolution_due_at)
        if conversation.next_response_due_at is not None:
            conversation.next_response_due_at = None
            _save(conversation, "next_response_due_at")
    elif (
        before == S.RESOLVED
        and policy is not None
        and policy.resolution_minutes
        and conversation.resolution_breached_at is None
    ):
        conversation.resolution_due_at = due_after(
            conversation, policy, at, policy.resolution_minutes
        )
        _save(conversation, "resolution_due_at")


def on_priority_change(conversation: Conversation) -> None:
    apply_policy(conversation)


# --- Breaches --------------------------------------------------------------------------------


def _overdue(target: str, now: datetime) -> Q:
    due, breached = f"{target}_due_at", f"{target}_breached_at"
    return Q(**{f"{due}__lt": now}) & (
        Q(**{f"{breached}__isnull": True}) | Q(**{f"{breached}__lt": F(due)})
    )


def _overdue_now(conversation: Conversation, target: str, now: datetime) -> bool:
    if target == "first_response" and conversation.first_reply_at is not None:
        return False
    if target == "next_response" and conversation.status != S.OPEN:
        return False
    return conversation.status != S.RESOLVED


@dataclass(frozen=True)
class Breach:
    conversation_id: int
    target: str


def conversations_check_sla(*, now: datetime | None = None) -> list[Breach]:
    """Mark every target that fell due without being met (once per due moment), write its
    `sla_breach` event and tell the people concerned after commit. Safe to repeat."""
    now = now or timezone.now()
    candidates = (
        Conversation.objects.exclude(status=S.RESOLVED)
        .filter(
            (_overdue("first_response", now) & Q(first_reply_at__isnull=True))
            | (_overdue("next_response", now) & Q(status=S.OPEN))
            | _overdue("resolution", now)
        )
        .values_list("pk", flat=True)
    )
    found = []
    for pk in list(candidates):
        with transaction.atomic():
            locked = (
                Conversation.objects.select_for_update(of=("self",))
                .select_related("location")
                .filter(pk=pk)
                .first()
            )
            if locked is None:
                continue
            for target in TARGETS:
                due = getattr(locked, f"{target}_due_at")
                if due is None or not _overdue_now(locked, target, now):
                    continue
                if _late(locked, target, at=now, due=due):
                    found.append(Breach(conversation_id=pk, target=target))
                    emit(
                        SLA_BREACHED,
                        conversation_id=pk,
                        brand_id=locked.brand_id,
                        target=target,
                    )
    return found


# --- The queue's warnings --------------------------------------------------------------------


def warning_of(
    conversation: Conversation, *, now: datetime | None = None
) -> tuple[str, str] | None:
    """("overdue" | "due_soon", what) for the queue's badge, or None. Reads only the
    conversation's own fields (no query)."""
    if conversation.status == S.RESOLVED or conversation.sla_policy_id is None:
        return None
    now = now or timezone.now()
    pending = []
    if conversation.first_reply_at is None and conversation.first_response_due_at:
        pending.append(("first_response", conversation.first_response_due_at))
    if conversation.status == S.OPEN and conversation.next_response_due_at:
        pending.append(("next_response", conversation.next_response_due_at))
    if conversation.resolution_due_at:
        pending.append(("resolution", conversation.resolution_due_at))
    if not pending:
        return None
    target, due = min(pending, key=lambda item: item[1])
    if due <= now:
        return "overdue", TARGET_LABELS[target]
    if due - now <= DUE_SOON:
        return "due_soon", TARGET_LABELS[target]
    return None
