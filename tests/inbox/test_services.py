from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from opencx.contacts.models import Identity
from opencx.inbox import flows, services
from opencx.inbox.models import AgentStatus, Conversation, Inbox, Message
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import AuditEvent, Channel
from opencx.platform.roles import Role
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db
S = Conversation.Status


def _receive(inbox, provider_id="m-1", **fields):
    fields.setdefault("body", "Where is my order?")
    fields.setdefault("email", "marta@example.test")
    return services.message_receive(inbox=inbox, provider_message_id=provider_id, **fields)


# --- Inboxes ---------------------------------------------------------------------------------


def test_creating_an_inbox_makes_its_channel_and_config(owner_actor, store):
    inbox = services.inbox_create_email(
        actor=owner_actor,
        name="Support",
        location=store,
        address="Support@Bottega.test",
        imap_host="imap.bottega.test",
        imap_user="support",
        smtp_host="smtp.bottega.test",
    )
    assert inbox.kind == Inbox.Kind.EMAIL and inbox.location == store
    assert inbox.channel.kind == Channel.Kind.EMAIL and inbox.channel.location == store
    assert inbox.email.address == "support@bottega.test"
    assert (inbox.email.imap_port, inbox.email.smtp_port, inbox.email.last_uid) == (993, 587, 0)
    assert AuditEvent.objects.filter(action="inbox.create", object_id=str(inbox.pk)).exists()


def test_api_inbox_token_is_shown_once_and_stored_as_a_digest(owner_actor):
    issued = services.inbox_create_api(actor=owner_actor, name="Shop")
    assert issued.token.startswith("ocxin_")
    assert issued.inbox.location is None  # brand-level
    assert issued.inbox.api.token_digest == issued.inbox.api.digest_of(issued.token)
    assert issued.token not in str(issued.inbox.api.__dict__)


def test_only_brand_managers_create_inboxes_and_only_where_they_reach(
    make_actor, store, sibling_store
):
    with pytest.raises(Forbidden):
        services.inbox_create_api(actor=make_actor(Role.CX_MANAGER), name="x")
    scoped_admin = make_actor(Role.BRAND_ADMIN, sibling_store)
    with pytest.raises(NotFound):
        services.inbox_create_api(actor=scoped_admin, name="x", location=store)
    with pytest.raises(AppError) as error:
        services.inbox_create_api(actor=make_actor(Role.OWNER), name="x", webhook_url="ftp://x")
    assert error.value.field == "webhook_url"


# --- Receiving -------------------------------------------------------------------------------


def test_a_message_opens_a_waiting_conversation_with_a_new_contact(api_channel, store):
    inbox, _ = api_channel
    before = timezone.now()
    received = _receive(inbox, subject="  Parcel\n late ", name="Marta Bianchi")
    assert received.created
    message, conversation = received.message, received.message.conversation
    assert (conversation.inbox, conversation.location, conversation.channel) == (
        inbox,
        store,
        inbox.channel,
    )
    assert conversation.subject == "Parcel late"
    assert conversation.status == S.OPEN and conversation.waiting_since >= before
    assert conversation.last_activity_at == conversation.waiting_since
    assert conversation.contact.name == "Marta Bianchi"
    assert conversation.contact.home_location == store
    assert Identity.objects.get(contact=conversation.contact).value == "marta@example.test"
    assert message.inbox == inbox and message.delivery_status == Message.Delivery.RECEIVED
    assert (message.direction, message.sender_kind) == ("in", "contact")


def test_a_message_costs_a_fixed_number_of_statements(api_channel, django_assert_num_queries):
    inbox, _ = api_channel
    # A new customer: look them up, create them (savepoint, contact, audit, identity), read
    # the inbox's SLA policy, insert the conversation, message, event and assignment task; no
    # look for an open conversation a customer new just now cannot have. +2: the test's
    # transaction makes the service's own a savepoint.
    with django_assert_num_queries(13):
        opened = _receive(inbox, "q-1").message.conversation
    # The customer again: look them up, lock their open conversation, insert, update.
    with django_assert_num_queries(6):
        again = _receive(inbox, "q-2").message.conversation
    assert again == opened and again.messages.count() == 2


def test_the_same_provider_message_is_stored_once(api_channel):
    inbox, _ = api_channel
    first = _receive(inbox, "dup-1")
    again = _receive(inbox, "dup-1", body="a different body, same id")
    assert not again.created and again.message == first.message
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


def test_the_database_refuses_a_provider_id_twice_in_one_inbox_only(api_channel, owner_actor):
    inbox, _ = api_channel
    other = services.inbox_create_api(actor=owner_actor, name="Other").inbox
    conversation = _receive(inbox, "x-1").message.conversation
    fields = {"conversation": conversation, "direction": "in", "sender_kind": "contact"}
    Message.objects.create(inbox=other, provider_message_id="x-1", body="b", **fields)
    Message.objects.create(inbox=inbox, provider_message_id="", body="c", **fields)
    Message.objects.create(inbox=inbox, provider_message_id="", body="d", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(inbox=inbox, provider_message_id="x-1", body="e", **fields)


def test_api_messages_join_the_customers_open_conversation(api_channel):
    inbox, _ = api_channel
    first = _receive(inbox, "a").message.conversation
    second = _receive(inbox, "b", email="MARTA@example.test").message.conversation
    assert first == second and first.messages.count() == 2
    other = _receive(inbox, "c", email="luca@example.test").message.conversation
    assert other != first


def test_a_message_joins_the_customers_newest_unresolved_conversation(api_channel):
    inbox, _ = api_channel
    contact = _receive(inbox, "a").message.conversation.contact
    now = timezone.now()

    def conversation(status, hours_ago):
        return ConversationFactory(
            brand=inbox.brand, inbox=inbox, location=inbox.location, channel=inbox.channel,
            contact=contact, status=status, created_at=now - timedelta(hours=hours_ago),
        )  # fmt: skip

    Conversation.objects.update(created_at=now - timedelta(hours=9))
    pending = conversation(S.PENDING, 2)
    conversation(S.RESOLVED, 1)
    conversation(S.OPEN, 5)
    joined = _receive(inbox, "b").message.conversation
    assert joined == pending
    pending.refresh_from_db()
    assert pending.status == S.OPEN and pending.messages.count() == 1


def test_waiting_since_keeps_the_first_unanswered_message(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox, "a").message.conversation
    waiting = conversation.waiting_since
    _receive(inbox, "b")
    conversation.refresh_from_db()
    assert conversation.waiting_since == waiting


def test_a_message_on_a_resolved_conversation_reopens_it(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox, "a").message.conversation
    services.message_send(actor=owner_actor, conversation=conversation, body="Sorted!")
    services.conversation_transition(actor=owner_actor, conversation=conversation, to=S.RESOLVED)
    _receive(inbox, "b", conversation=conversation, body="Not sorted after all")
    conversation.refresh_from_db()
    assert conversation.status == S.OPEN and conversation.resolved_at is None
    assert conversation.waiting_since is not None
    assert AuditEvent.objects.filter(
        action="conversation.status", changes={"status": ["resolved", "open"]}
    ).exists()


def test_a_conversation_of_another_inbox_cannot_be_written_to(api_channel, owner_actor):
    inbox, _ = api_channel
    other = services.inbox_create_api(actor=owner_actor, name="Other").inbox
    conversation = _receive(other, "a").message.conversation
    with pytest.raises(NotFound):
        _receive(inbox, "b", conversation=conversation)


def test_email_threads_by_headers_not_by_customer(email_inbox, owner_actor):
    first = _receive(email_inbox, "<root@customer.test>", subject="Zip broken")
    conversation = first.message.conversation
    assert conversation.external_thread == "<root@customer.test>"
    reply = services.message_send(actor=owner_actor, conversation=conversation, body="Sorry!")
    assert reply.provider_message_id.endswith("@bottega.test>")
    answer = _receive(
        email_inbox,
        "<answer@customer.test>",
        in_reply_to=reply.provider_message_id,
        references=["<root@customer.test>", reply.provider_message_id],
    )
    assert answer.message.conversation == conversation
    # Only the root is known (e.g. our reply was deleted): References still thread it.
    late = _receive(email_inbox, "<late@customer.test>", references=["<root@customer.test>"])
    assert late.message.conversation == conversation
    # A new e-mail from the same customer, without threading headers, is a new conversation.
    fresh = _receive(email_inbox, "<new@customer.test>", subject="Another thing")
    assert fresh.message.conversation != conversation


def test_brand_level_inbox_files_conversations_at_the_customers_home(owner_actor, store, region):
    inbox = services.inbox_create_api(actor=owner_actor, name="Brand-wide").inbox
    homeless = _receive(inbox, "a", email="new@example.test").message.conversation
    assert homeless.location == region  # the brand's first top-level location
    from opencx.contacts.models import Contact

    Contact.objects.filter(pk=homeless.contact_id).update(home_location=store)
    placed = _receive(inbox, "b", email="new@example.test", subject="x").message.conversation
    assert placed == homeless  # same open conversation
    other = _receive(inbox, "c", phone="+39 333 1234567").message.conversation
    assert other.location == region


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": "x" * (services.MAX_BODY + 1)}, "body"),
        ({"email": "", "phone": ""}, "email"),
        ({"email": "not an address"}, "email"),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_stored(api_channel, fields, field):
    inbox, _ = api_channel
    with pytest.raises(AppError) as error:
        _receive(inbox, **fields)
    assert error.value.field == field
    assert not Message.objects.exists() and not Conversation.objects.exists()


# --- Replying --------------------------------------------------------------------------------


def test_a_reply_is_the_first_response_once_and_stops_the_wait(api_channel, make_actor, store):
    inbox, _ = api_channel
    agent = make_actor(Role.AGENT, store)
    conversation = _receive(inbox).message.conversation
    note = services.message_send(
        actor=agent, conversation=conversation, body="Check the depot", private=True
    )
    conversation.refresh_from_db()
    assert note.is_private and note.delivery_status == ""
    assert conversation.first_reply_at is None and conversation.waiting_since is not None
    reply = services.message_send(actor=agent, conversation=conversation, body="On its way")
    conversation.refresh_from_db()
    first = conversation.first_reply_at
    assert reply.delivery_status == Message.Delivery.PENDING and reply.sender == agent.user
    assert first == reply.created_at and conversation.waiting_since is None
    _receive(inbox, "m-2")
    services.message_send(actor=agent, conversation=conversation, body="Again")
    conversation.refresh_from_db()
    assert conversation.first_reply_at == first
    assert AuditEvent.objects.filter(action="conversation.reply").count() == 2
    assert AuditEvent.objects.filter(action="conversation.note").count() == 1


def test_who_may_reply(api_channel, make_actor, sibling_store):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    with pytest.raises(Forbidden):
        services.message_send(actor=make_actor(Role.VIEWER), conversation=conversation, body="x")
    with pytest.raises(NotFound):
        services.message_send(
            actor=make_actor(Role.LOCATION_MANAGER, sibling_store),
            conversation=conversation,
            body="x",
        )


def test_a_conversation_without_inbox_takes_notes_but_no_replies(owner_actor, brand, store):
    conversation = ConversationFactory(brand=brand, location=store)
    with pytest.raises(Conflict):
        services.message_send(actor=owner_actor, conversation=conversation, body="Hello")
    note = services.message_send(
        actor=owner_actor, conversation=conversation, body="Hello", private=True
    )
    assert note.is_private


def test_a_reply_goes_out_once_after_commit(
    api_channel, owner_actor, immediate_tasks, django_capture_on_commit_callbacks
):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.message_send(actor=owner_actor, conversation=conversation, body="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.provider_message_id == f"ocx-{reply.pk}"
    assert flows.message_deliver(message_id=reply.pk) is False  # claimed once only


def test_a_failed_delivery_is_recorded(email_inbox, owner_actor):
    conversation = _receive(email_inbox, "<a@customer.test>").message.conversation
    reply = services.message_send(actor=owner_actor, conversation=conversation, body="Hi")
    assert flows.message_deliver(message_id=reply.pk) is False  # port 1: nobody listens
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED and reply.delivery_error


def test_a_reply_queued_before_the_inbox_was_switched_off_does_not_go_out(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    reply = services.message_send(actor=owner_actor, conversation=conversation, body="Hi")
    Inbox.objects.filter(pk=inbox.pk).update(is_active=False)

    assert flows.message_deliver(message_id=reply.pk) is False
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert reply.delivery_error == "This inbox is switched off." and not reply.provider_message_id


# --- Status ----------------------------------------------------------------------------------


def test_transitions_follow_the_table(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    for status, allowed in services.TRANSITIONS.items():
        Conversation.objects.filter(pk=conversation.pk).update(status=status)
        for to in S.values:
            if to in (status, S.SNOOZED):
                continue
            if to in allowed:
                services.conversation_transition(
                    actor=owner_actor, conversation=conversation, to=to
                )
                Conversation.objects.filter(pk=conversation.pk).update(status=status)
            else:
                with pytest.raises(Conflict):
                    services.conversation_transition(
                        actor=owner_actor, conversation=conversation, to=to
                    )


def test_resolving_stamps_and_reopening_clears(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    resolved = services.conversation_transition(
        actor=owner_actor, conversation=conversation, to=S.RESOLVED
    )
    assert resolved.resolved_at is not None and resolved.waiting_since is None
    reopened = services.conversation_transition(
        actor=owner_actor, conversation=conversation, to=S.OPEN
    )
    assert reopened.resolved_at is None
    with pytest.raises(AppError):
        services.conversation_transition(actor=owner_actor, conversation=conversation, to="gone")


def test_snoozing_needs_a_future_time_and_wakes_up(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    for when in (None, timezone.now() - timedelta(minutes=1)):
        with pytest.raises(AppError) as error:
            services.conversation_transition(
                actor=owner_actor, conversation=conversation, to=S.SNOOZED, snooze_until=when
            )
        assert error.value.field == "snooze_until"
    until = timezone.now() + timedelta(hours=2)
    snoozed = services.conversation_transition(
        actor=owner_actor, conversation=conversation, to=S.SNOOZED, snooze_until=until
    )
    assert snoozed.snoozed_until == until
    assert services.conversations_wake_snoozed() == []
    assert services.conversations_wake_snoozed(now=until) == [conversation.pk]
    conversation.refresh_from_db()
    assert conversation.status == S.OPEN and conversation.snoozed_until is None
    assert services.conversations_wake_snoozed(now=until) == []


def test_a_customer_message_wakes_a_snoozed_conversation(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    services.conversation_transition(
        actor=owner_actor,
        conversation=conversation,
        to=S.SNOOZED,
        snooze_until=timezone.now() + timedelta(days=1),
    )
    _receive(inbox, "m-2", conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.status == S.OPEN and conversation.snoozed_until is None


def test_priority(api_channel, owner_actor):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    changed = services.conversation_set_priority(
        actor=owner_actor, conversation=conversation, priority="urgent"
    )
    assert changed.priority == "urgent"
    with pytest.raises(AppError):
        services.conversation_set_priority(
            actor=owner_actor, conversation=conversation, priority="asap"
        )


# --- Assignment ------------------------------------------------------------------------------


def test_manual_assignment_needs_someone_who_reaches_the_location(
    api_channel, owner_actor, make_actor, store, sibling_store
):
    inbox, _ = api_channel
    conversation = _receive(inbox).message.conversation
    here = make_actor(Role.AGENT, store)
    elsewhere = make_actor(Role.AGENT, sibling_store)
    viewer = make_actor(Role.VIEWER)
    for person in (elsewhere, viewer):
        with pytest.raises(AppError) as error:
            services.conversation_assign(
                actor=owner_actor, conversation=conversation, assignee=person.user
            )
        assert error.value.field == "assignee"
    assigned = services.conversation_assign(
        actor=owner_actor, conversation=conversation, assignee=here.user
    )
    assert assigned.assignee == here.user
    unassigned = services.conversation_assign(
        actor=owner_actor, conversation=conversation, assignee=None
    )
    assert unassigned.assignee is None
    assert AuditEvent.objects.filter(action="conversation.assign").count() == 2


def _open_for(inbox, agent, n, start=0):
    for i in range(n):
        conversation = _receive(inbox, f"load-{agent.pk}-{start + i}", email=f"c{i}@x.test")
        Conversation.objects.filter(pk=conversation.message.conversation_id).update(assignee=agent)


def test_round_robin_picks_the_least_loaded_then_the_longest_idle(
    api_channel, agent_at, store, sibling_store, region
):
    inbox, _ = api_channel
    busy = agent_at(store)
    idle_long = agent_at(region)  # reaches the store from above
    idle_recent = agent_at(store)
    agent_at(store, available=False)
    agent_at(sibling_store)
    _open_for(inbox, busy.user, 1)
    now = timezone.now()
    AgentStatus.objects.filter(user=idle_long.user).update(
        last_assigned_at=now - timedelta(hours=3)
    )
    AgentStatus.objects.filter(user=idle_recent.user).update(last_assigned_at=now)

    def new():
        return _receive(inbox, f"new-{Conversation.objects.count()}", phone="+393331234567")

    first = new().message.conversation
    assert services.conversation_auto_assign(conversation=first) == idle_long.user
    services.conversation_transition(
        actor=idle_long, conversation=first, to=S.RESOLVED
    )  # so the next message opens a new conversation
    second = new().message.conversation
    assert second != first
    # idle_long was just assigned: idle_recent's last assignment is now the older one.
    assert services.conversation_auto_assign(conversation=second) == idle_recent.user
    # Already assigned: left alone.
    assert services.conversation_auto_assign(conversation=second) is None


def test_round_robin_respects_capacity(api_channel, agent_at, store):
    inbox, _ = api_channel
    full = agent_at(store, capacity=2)
    _open_for(inbox, full.user, 2)
    conversation = _receive(inbox, "new", phone="+393331234567").message.conversation
    assert services.conversation_auto_assign(conversation=conversation) is None
    roomy = agent_at(store, capacity=1)
    assert services.conversation_auto_assign(conversation=conversation) == roomy.user
    assert AgentStatus.objects.get(user=roomy.user).last_assigned_at is not None


def test_a_new_conversation_is_assigned(api_channel, agent_at, store, immediate_tasks):
    inbox, _ = api_channel
    agent = agent_at(store)
    conversation = _receive(inbox).message.conversation
    conversation.refresh_from_db()
    assert conversation.assignee == agent.user
    Inbox.objects.filter(pk=inbox.pk).update(auto_assign=False)
    inbox.refresh_from_db()
    other = _receive(inbox, "m-2", email="luca@example.test").message.conversation
    other.refresh_from_db()
    assert other.assignee is None


def test_the_assignment_is_queued_in_the_transaction_that_opens_the_conversation(
    api_channel, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path="opencx.inbox.tasks.auto_assign_conversation")
    inbox, _ = api_channel
    with django_capture_on_commit_callbacks(execute=False):  # nothing runs after the commit
        conversation = _receive(inbox).message.conversation
    assert [r.args_kwargs["args"] for r in queued] == [[conversation.pk]]
    _receive(inbox, "m-2")  # joins the open conversation: nothing more to assign
    assert queued.count() == 1


def test_agent_status_is_ones_own_unless_managing_members(make_actor, store, owner_actor):
    agent = make_actor(Role.AGENT, store)
    other = make_actor(Role.AGENT, store)
    status = services.agent_status_set(actor=agent, available=True, capacity=3)
    assert (status.available, status.capacity) == (True, 3)
    with pytest.raises(Forbidden):
        services.agent_status_set(actor=agent, user=other.user, available=True)
    set_by_owner = services.agent_status_set(actor=owner_actor, user=other.user, capacity=0)
    assert set_by_owner.capacity == 0 and not set_by_owner.available
    with pytest.raises(AppError):
        services.agent_status_set(actor=agent, capacity=-1)


def test_an_admin_of_one_store_sets_only_that_stores_agents(make_actor, store, sibling_store):
    admin = make_actor(Role.BRAND_ADMIN, store)
    here, there = make_actor(Role.AGENT, store), make_actor(Role.AGENT, sibling_store)
    assert services.agent_status_set(actor=admin, user=here.user, capacity=2).capacity == 2
    with pytest.raises(NotFound):
        services.agent_status_set(actor=admin, user=there.user, capacity=2)
    assert not AgentStatus.objects.filter(user=there.user).exists()
