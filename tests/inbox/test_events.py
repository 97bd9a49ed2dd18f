from datetime import timedelta

import pytest

from opencx.inbox import services, sla
from opencx.inbox.models import Conversation, ConversationEvent

pytestmark = pytest.mark.django_db
E = ConversationEvent.Kind
S = Conversation.Status


def _receive(inbox, provider_id="m-1", **fields):
    fields.setdefault("body", "Where is my order?")
    fields.setdefault("email", "marta@example.test")
    received = services.message_receive(inbox=inbox, provider_message_id=provider_id, **fields)
    return Conversation.objects.get(pk=received.message.conversation_id)


def _kinds(conversation):
    return list(
        ConversationEvent.objects.filter(conversation=conversation)
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def test_the_life_of_a_conversation_is_recorded_once_per_step(owner_actor, owner, api_channel):
    inbox = api_channel[0]
    sla.sla_policy_set(
        actor=owner_actor,
        inbox=inbox,
        priority="normal",
        first_response_minutes=60,
        resolution_minutes=600,
        business_hours=False,
    )
    conversation = _receive(inbox)
    _receive(inbox, "m-1")  # the same provider id again: nothing new
    services.conversation_assign(actor=owner_actor, conversation=conversation, assignee=owner)
    services.message_send(actor=owner_actor, conversation=conversation, body="On its way")
    services.message_send(actor=owner_actor, conversation=conversation, body="note", private=True)
    services.message_send(actor=owner_actor, conversation=conversation, body="Tracking: 123")
    services.conversation_transition(actor=owner_actor, conversation=conversation, to=S.RESOLVED)
    _receive(inbox, "m-2", body="It never came", conversation=conversation)  # reopens
    assert _kinds(conversation) == [
        E.CREATED,
        E.ASSIGNED,
        E.FIRST_RESPONSE,
        E.REPLY,
        E.RESOLVED,
        E.REOPENED,
    ]
    first = ConversationEvent.objects.get(conversation=conversation, kind=E.FIRST_RESPONSE)
    conversation.refresh_from_db()
    assert first.agent == owner and first.detail == "met"
    assert first.seconds == pytest.approx(
        (conversation.first_reply_at - conversation.created_at).total_seconds(), abs=0.001
    )
    assert first.business_seconds == pytest.approx(first.seconds, abs=1)  # always open
    assert (first.inbox, first.location, first.channel) == (
        inbox,
        conversation.location,
        conversation.channel,
    )
    resolved = ConversationEvent.objects.get(conversation=conversation, kind=E.RESOLVED)
    assert resolved.detail == "met" and resolved.agent == owner and resolved.seconds >= 0


def test_business_seconds_count_only_opening_hours(owner_actor, api_channel, store):
    store.opening_hours = {str(day): [["09:00", "18:00"]] for day in range(7)}
    store.save()
    conversation = _receive(api_channel[0])
    from opencx.inbox import events

    start = conversation.created_at.replace(hour=20, minute=0, second=0, microsecond=0)
    # 20:00 UTC is 21:00 or 22:00 in Rome: closed until 09:00, then two business hours.
    end = start + timedelta(hours=15)
    calendar, business = events.durations(conversation, start, end)
    assert calendar == 15 * 3600
    assert business < calendar and business in (3600.0 * 2, 3600.0 * 3)
