"""The reporting fact table: one `ConversationEvent` per thing that happened to a conversation.

Called by `services` inside their transactions (never by signals), so an event exists exactly
when the change it describes was committed. Responses and resolutions carry how long they took,
in calendar seconds and in the location's business seconds (its opening hours and time zone),
and, when a service level applied, whether it was met (`detail` "met" or "missed"). Reports in
`insights.inbox_report` read only this table (and the conversation's current dimensions).
"""

from datetime import datetime

from opencx.insights.facade import business_seconds
from opencx.platform.models import User

from .models import Conversation, ConversationEvent

E = ConversationEvent.Kind
MET, MISSED = "met", "missed"


def fact(
    conversation: Conversation,
    kind: str,
    *,
    at: datetime,
    agent_id: int | None = None,
    seconds: float | None = None,
    business: float | None = None,
    detail: str = "",
) -> ConversationEvent:
    """One fact, unsaved, with the conversation's dimensions as they are now (bulk writers such
    as the demo save many at once)."""
    return ConversationEvent(
        brand_id=conversation.brand_id,
        conversation_id=conversation.pk,
        kind=kind,
        at=at,
        inbox_id=conversation.inbox_id,
        location_id=conversation.location_id,
        channel_id=conversation.channel_id,
        agent_id=agent_id,
        team_id=conversation.team_id,
        seconds=seconds,
        business_seconds=business,
        detail=detail[:40],
    )


def record(
    conversation: Conversation,
    kind: str,
    *,
    at: datetime,
    agent: User | None = None,
    seconds: float | None = None,
    business: float | None = None,
    detail: str = "",
) -> ConversationEvent:
    """One fact, stored."""
    event = fact(
        conversation,
        kind,
        at=at,
        agent_id=agent.pk if agent is not None else None,
        seconds=seconds,
        business=business,
        detail=detail,
    )
    event.save(force_insert=True)
    return event


def durations(conversation: Conversation, start: datetime, end: datetime) -> tuple[float, float]:
    """(calendar seconds, business seconds) from `start` to `end` at the conversation's
    location."""
    location = conversation.location
    calendar = max((end - start).total_seconds(), 0.0)
    business = business_seconds(
        start=start,
        end=end,
        timezone_name=location.timezone,
        opening_hours=location.opening_hours,
    )
    return calendar, business


def outcome(done_at: datetime, due_at: datetime | None) -> str:
    if due_at is None:
        return ""
    return MET if done_at <= due_at else MISSED


def on_customer_message(
    conversation: Conversation, *, at: datetime, opened: bool, reopened: bool
) -> None:
    if opened:
        record(conversation, E.CREATED, at=at)
    elif reopened:
        record(conversation, E.REOPENED, at=at)


def on_agent_reply(conversation: Conversation, *, agent: User | None, at: datetime) -> None:
    """The first public reply is the first response (timed from the start); later ones are
    replies."""
    if conversation.first_reply_at == at:
        calendar, business = durations(conversation, conversation.created_at, at)
        record(
            conversation,
            E.FIRST_RESPONSE,
            at=at,
            agent=agent,
            seconds=calendar,
            business=business,
            detail=outcome(at, conversation.first_response_due_at),
        )
    else:
        record(conversation, E.REPLY, at=at, agent=agent)


def on_status_change(
    conversation: Conversation, *, before: str, agent: User | None, at: datetime
) -> None:
    """Resolved (timed from the start) or reopened; other moves are not reported on."""
    resolved = Conversation.Status.RESOLVED
    if conversation.status == resolved and before != resolved:
        calendar, business = durations(conversation, conversation.created_at, at)
        record(
            conversation,
            E.RESOLVED,
            at=at,
            agent=agent or conversation.assignee,
            seconds=calendar,
            business=business,
            detail=outcome(at, conversation.resolution_due_at),
        )
    elif before == resolved and conversation.status != resolved:
        record(conversation, E.REOPENED, at=at, agent=agent)


def on_assigned(conversation: Conversation, *, assignee: User | None, at: datetime) -> None:
    if assignee is not None:
        record(conversation, E.ASSIGNED, at=at, agent=assignee)
