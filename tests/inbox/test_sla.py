from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from opencx.inbox import services, sla
from opencx.inbox.models import Conversation, ConversationEvent, Team
from opencx.platform.errors import AppError, Forbidden, NotFound
from opencx.platform.roles import Role
from opencx.surveys.models import Invitation
from tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db
S = Conversation.Status
E = ConversationEvent.Kind


@pytest.fixture
def inbox(api_channel):
    return api_channel[0]


@pytest.fixture
def policy(owner_actor, inbox):
    return sla.sla_policy_set(
        actor=owner_actor,
        inbox=inbox,
        priority="normal",
        first_response_minutes=60,
        next_response_minutes=30,
        resolution_minutes=24 * 60,
        business_hours=False,
    )


def _receive(inbox, provider_id="m-1", **fields):
    fields.setdefault("body", "Where is my order?")
    fields.setdefault("email", "marta@example.test")
    received = services.message_receive(inbox=inbox, provider_message_id=provider_id, **fields)
    return Conversation.objects.get(pk=received.message.conversation_id)


def _age(conversation, **delta):
    """Move the conversation's start (and due moments) into the past."""
    shift = timedelta(**delta)
    fields = {
        field: getattr(conversation, field) - shift
        for field in ("created_at", "first_response_due_at", "resolution_due_at")
        if getattr(conversation, field) is not None
    }
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    conversation.refresh_from_db()
    return conversation


# --- policies --------------------------------------------------------------------------------


def test_policy_is_one_per_inbox_and_priority_and_validated(owner_actor, inbox, policy):
    again = sla.sla_policy_set(
        actor=owner_actor, inbox=inbox, priority="normal", first_response_minutes=15
    )
    assert again.pk == policy.pk and again.first_response_minutes == 15
    assert again.resolution_minutes is None
    with pytest.raises(AppError) as error:
        sla.sla_policy_set(actor=owner_actor, inbox=inbox, priority="normal")
    assert error.value.field == "first_response_minutes"
    with pytest.raises(AppError) as error:
        sla.sla_policy_set(
            actor=owner_actor,
            inbox=inbox,
            priority="high",
            first_response_minutes=120,
            resolution_minutes=60,
        )
    assert error.value.field == "resolution_minutes"
    with pytest.raises(AppError):
        sla.sla_policy_set(
            actor=owner_actor, inbox=inbox, priority="vital", first_response_minutes=5
        )


def test_only_brand_managers_who_reach_the_inbox_set_policies(
    make_actor, inbox, sibling_store, stranger
):
    with pytest.raises(Forbidden):
        sla.sla_policy_set(
            actor=make_actor(Role.AGENT), inbox=inbox, priority="low", first_response_minutes=5
        )
    with pytest.raises(NotFound):
        sla.sla_policy_set(
            actor=make_actor(Role.BRAND_ADMIN, sibling_store),
            inbox=inbox,
            priority="low",
            first_response_minutes=5,
        )


# --- due moments -----------------------------------------------------------------------------


def test_a_new_conversation_gets_the_policy_and_its_due_moments(inbox, policy):
    conversation = _receive(inbox)
    assert conversation.sla_policy == policy
    assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=60)
    assert conversation.resolution_due_at == conversation.created_at + timedelta(days=1)
    assert conversation.next_response_due_at is None


def test_business_hours_targets_wait_for_the_location_to_open(inbox, store, owner_actor):
    store.opening_hours = {str(day): [["09:00", "18:00"]] for day in range(5)}
    store.save()
    policy = sla.sla_policy_set(
        actor=owner_actor, inbox=inbox, priority="high", first_response_minutes=120
    )
    conversation = Conversation(location=store, inbox=inbox, priority="high")
    friday_evening = datetime(2025, 3, 7, 17, 30, tzinfo=UTC)  # 18:30 in Rome
    due = sla.due_after(conversation, policy, friday_evening, 120)
    assert timezone.localtime(due, store_zone(store)) == datetime(
        2025, 3, 10, 11, 0, tzinfo=store_zone(store)
    )  # Monday 09:00 + 2 h


def store_zone(store):
    from zoneinfo import ZoneInfo

    return ZoneInfo(store.timezone)


def test_no_policy_means_no_due_moments(inbox):
    conversation = _receive(inbox)
    assert conversation.sla_policy is None and conversation.first_response_due_at is None


def test_priority_change_puts_the_other_policy_in_force(owner_actor, inbox, policy):
    urgent = sla.sla_policy_set(
        actor=owner_actor,
        inbox=inbox,
        priority="urgent",
        first_response_minutes=5,
        business_hours=False,
    )
    conversation = _receive(inbox)
    services.conversation_set_priority(
        actor=owner_actor, conversation=conversation, priority="urgent"
    )
    conversation.refresh_from_db()
    assert conversation.sla_policy == urgent
    assert conversation.first_response_due_at == conversation.created_at + timedelta(minutes=5)
    assert conversation.resolution_due_at is None


def test_customer_writing_again_starts_the_next_response_clock_and_a_reply_stops_it(
    owner_actor, inbox, policy
):
    conversation = _receive(inbox)
    services.message_send(actor=owner_actor, conversation=conversation, body="On its way")
    conversation.refresh_from_db()
    assert conversation.first_response_breached_at is None
    again = _receive(inbox, "m-2", body="Still nothing")
    assert again.pk == conversation.pk
    assert again.next_response_due_at == again.waiting_since + timedelta(minutes=30)
    services.message_send(actor=owner_actor, conversation=again, body="Sorry!")
    again.refresh_from_db()
    assert again.next_response_due_at is None and again.next_response_breached_at is None


def test_a_late_first_reply_is_recorded_as_missed(owner_actor, inbox, policy):
    conversation = _age(_receive(inbox), hours=2)
    services.message_send(actor=owner_actor, conversation=conversation, body="Sorry for the wait")
    conversation.refresh_from_db()
    assert conversation.first_response_breached_at == conversation.first_reply_at
    breach = ConversationEvent.objects.get(conversation=conversation, kind=E.SLA_BREACH)
    assert breach.detail == "first_response" and breach.at == conversation.first_response_due_at
    first = ConversationEvent.objects.get(conversation=conversation, kind=E.FIRST_RESPONSE)
    assert first.detail == "missed"


# --- breaches --------------------------------------------------------------------------------


def test_check_marks_each_missed_target_once_and_tells_the_assignee(
    owner_actor, owner, inbox, policy, immediate_tasks, django_capture_on_commit_callbacks
):
    conversation = _age(_receive(inbox), days=2)
    services.conversation_assign(actor=owner_actor, conversation=conversation, assignee=owner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        found = sla.conversations_check_sla()
    assert {(b.conversation_id, b.target) for b in found} == {
        (conversation.pk, "first_response"),
        (conversation.pk, "resolution"),
    }
    assert sla.conversations_check_sla() == []  # once
    conversation.refresh_from_db()
    assert conversation.first_response_breached_at and conversation.resolution_breached_at
    details = set(
        ConversationEvent.objects.filter(conversation=conversation, kind=E.SLA_BREACH).values_list(
            "detail", flat=True
        )
    )
    assert details == {"first_response", "resolution"}
    assert {m.to[0] for m in mail.outbox} == {owner.email} and len(mail.outbox) == 2
    assert "Service level missed" in mail.outbox[0].subject


def test_unassigned_breach_goes_to_the_inbox_team(owner_actor, make_actor, inbox, policy, brand):
    member = make_actor(Role.AGENT).user
    team = Team.objects.create(brand=brand, name="Shop")
    team.members.add(member)
    team.inboxes.add(inbox)
    conversation = _age(_receive(inbox), days=2)
    from opencx.inbox.sla_flows import sla_breach_notify

    assert sla_breach_notify(conversation_id=conversation.pk, target="resolution") == [member.email]


def test_resolved_and_answered_conversations_are_not_breached(owner_actor, inbox, policy):
    answered = _age(_receive(inbox, email="a@example.test"), minutes=30)
    services.message_send(actor=owner_actor, conversation=answered, body="Hi")
    _age(answered, hours=1)
    resolved = _receive(inbox, "m-2", email="b@example.test")
    services.conversation_transition(actor=owner_actor, conversation=resolved, to=S.RESOLVED)
    _age(resolved, days=3)
    assert sla.conversations_check_sla() == []


def test_queue_warning_says_overdue_or_due_soon(inbox, policy):
    conversation = _receive(inbox)
    now = conversation.created_at
    assert sla.warning_of(conversation, now=now) is None
    assert sla.warning_of(conversation, now=now + timedelta(minutes=45)) == (
        "due_soon",
        "First response",
    )
    assert sla.warning_of(conversation, now=now + timedelta(minutes=61)) == (
        "overdue",
        "First response",
    )


def test_queue_shows_the_overdue_badge(client, brand, owner, inbox, policy):
    _age(_receive(inbox), hours=2)
    client.force_login(owner)
    body = client.get(reverse("inbox:list", args=[brand.slug])).content.decode()
    assert "First response overdue" in body


# --- CSAT after resolution -------------------------------------------------------------------


@pytest.fixture
def csat_survey(brand, make_survey):
    survey, headline, _ = make_survey("csat")
    survey.touchpoint = TouchpointFactory(brand=brand, key="support", name="Support")
    survey.save()
    return survey


def test_resolving_sends_the_brands_support_csat_once(
    owner_actor, inbox, csat_survey, immediate_tasks, django_capture_on_commit_callbacks
):
    conversation = _receive(inbox)
    conversation.contact.consent_email = True
    conversation.contact.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_transition(
            actor=owner_actor, conversation=conversation, to=S.RESOLVED
        )
    conversation.refresh_from_db()
    invitation = conversation.csat_invitation
    assert invitation.survey == csat_survey and invitation.status == Invitation.Status.SENT
    assert invitation.address == "marta@example.test"
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_transition(actor=owner_actor, conversation=conversation, to=S.OPEN)
        services.conversation_transition(
            actor=owner_actor, conversation=conversation, to=S.RESOLVED
        )
    assert Invitation.objects.filter(contact=conversation.contact).count() == 1


def test_csat_respects_consent(
    owner_actor, inbox, csat_survey, immediate_tasks, django_capture_on_commit_callbacks
):
    conversation = _receive(inbox)  # the customer never agreed to e-mail
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_transition(
            actor=owner_actor, conversation=conversation, to=S.RESOLVED
        )
    conversation.refresh_from_db()
    assert conversation.csat_invitation.status == Invitation.Status.SKIPPED
    assert conversation.csat_invitation.skip_reason == "no consent for this channel"


def test_no_csat_survey_sends_nothing(
    owner_actor, inbox, immediate_tasks, django_capture_on_commit_callbacks
):
    conversation = _receive(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_transition(
            actor=owner_actor, conversation=conversation, to=S.RESOLVED
        )
    conversation.refresh_from_db()
    assert conversation.csat_invitation is None


def test_check_command_runs(capsys, inbox, policy):
    from django.core.management import call_command

    call_command("check_inbox_sla")
    assert "Marked 0 missed targets." in capsys.readouterr().out
