"""Admins' inbox settings (inbox_settings.py): the list in reach with open counts, changing an
inbox (audited, reach and capability checked), and SLA targets of every priority at once."""

import pytest

from opencx.inbox import inbox_settings, selectors, services
from opencx.inbox.inbox_settings import SlaRow
from opencx.inbox.models import Conversation, Inbox, SlaPolicy
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import AuditEvent, Channel
from opencx.platform.roles import Role
from tests.factories import ConversationFactory, LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_inbox(owner_actor, store):
    return services.inbox_create_api(actor=owner_actor, name="Shop backend", location=store)


@pytest.fixture
def brand_inbox(owner_actor):
    return services.inbox_create_api(actor=owner_actor, name="Head office", location=None).inbox


def _audits(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- reads ---


def test_the_list_counts_open_conversations_in_reach(
    owner_actor, brand, store, api_inbox, brand_inbox, make_actor, region
):
    inbox = api_inbox.inbox
    for status in ("open", "open", "pending", "resolved"):
        ConversationFactory(
            brand=brand, location=store, inbox=inbox, channel=inbox.channel, status=status
        )
    listed = {i.name: i for i in inbox_settings.inboxes_for_settings(owner_actor)}
    assert set(listed) == {"Shop backend", "Head office"}
    assert listed["Shop backend"].open_conversations == 2
    assert listed["Head office"].open_conversations == 0


def test_a_location_scoped_admin_lists_only_inboxes_in_their_subtree(
    owner_actor, brand, region, store, api_inbox, brand_inbox, make_actor
):
    elsewhere = LocationFactory(brand=brand, name="South", code="south", kind="region")
    services.inbox_create_api(actor=owner_actor, name="South desk", location=elsewhere)
    admin = make_actor(Role.BRAND_ADMIN, region)
    assert [i.name for i in inbox_settings.inboxes_for_settings(admin)] == ["Shop backend"]
    with pytest.raises(NotFound):
        inbox_settings.inbox_settings_get(admin, pk=brand_inbox.pk)
    assert inbox_settings.inbox_settings_get(admin, pk=api_inbox.inbox.pk).api.token_hint


def test_members_who_may_not_manage_the_brand_are_refused(make_actor, store, api_inbox):
    for role in (Role.VIEWER, Role.AGENT, Role.CX_MANAGER):
        actor = make_actor(role)
        with pytest.raises(Forbidden):
            inbox_settings.inboxes_for_settings(actor)
        with pytest.raises(Forbidden):
            inbox_settings.inbox_settings_get(actor, pk=api_inbox.inbox.pk)


def test_another_brands_inbox_is_not_found(other_brand, api_inbox):
    from opencx.platform.actor import Actor
    from tests.factories import MembershipFactory

    rival = MembershipFactory(brand=other_brand, role=Role.OWNER)
    actor = Actor(user=rival.user, brand=other_brand, membership=rival)
    with pytest.raises(NotFound):
        inbox_settings.inbox_settings_get(actor, pk=api_inbox.inbox.pk)
    with pytest.raises(NotFound):
        inbox_settings.inbox_update(actor=actor, inbox=api_inbox.inbox, name="Mine")
    assert inbox_settings.inboxes_for_settings(actor) == []


# --- inbox_update ---


def test_renaming_and_switching_are_audited_and_the_channel_follows(owner_actor, api_inbox):
    inbox = api_inbox.inbox
    updated = inbox_settings.inbox_update(
        actor=owner_actor, inbox=inbox, name="  Shop API  ", is_active=False, auto_assign=False
    )
    assert updated is inbox
    inbox.refresh_from_db()
    assert (inbox.name, inbox.is_active, inbox.auto_assign) == ("Shop API", False, False)
    assert Channel.objects.get(pk=inbox.channel_id).name == "Shop API"
    (event,) = _audits("inbox.update")
    assert event.actor == owner_actor.user and event.object_id == str(inbox.pk)
    assert event.changes == {
        "name": ["Shop backend", "Shop API"],
        "is_active": [True, False],
        "auto_assign": [True, False],
    }
    # The same values again change nothing and write no audit.
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, name="Shop API", is_active=False)
    assert len(_audits("inbox.update")) == 1


def test_moving_an_inbox_moves_its_own_channel_but_not_its_conversations(
    owner_actor, brand, store, sibling_store, api_inbox
):
    inbox = api_inbox.inbox
    old = ConversationFactory(brand=brand, location=store, inbox=inbox, channel=inbox.channel)
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, location=sibling_store)
    inbox.refresh_from_db()
    assert inbox.location == sibling_store
    assert Channel.objects.get(pk=inbox.channel_id).location == sibling_store
    old.refresh_from_db()
    assert old.location == store
    assert _audits("inbox.update")[0].changes == {"location": [store.pk, sibling_store.pk]}
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, location=None)
    inbox.refresh_from_db()
    assert inbox.location is None


def test_a_shared_reporting_channel_is_left_alone(owner_actor, brand, store, api_inbox):
    inbox = api_inbox.inbox
    Inbox.objects.create(brand=brand, channel=inbox.channel, name="Twin", kind="api")
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, name="Renamed")
    assert Channel.objects.get(pk=inbox.channel_id).name == "Shop backend"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": 5}, "name"),
        ({"is_active": "no"}, "is_active"),
        ({"auto_assign": 1}, "auto_assign"),
        ({"location": "3"}, "location"),
    ],
)
def test_bad_input_names_its_field(owner_actor, api_inbox, change, field):
    with pytest.raises(AppError) as raised:
        inbox_settings.inbox_update(actor=owner_actor, inbox=api_inbox.inbox, **change)
    assert raised.value.field == field and raised.value.status == 400
    assert not _audits("inbox.update")


def test_reach_bounds_where_a_scoped_admin_may_move_an_inbox(
    brand, region, store, make_actor, api_inbox
):
    admin = make_actor(Role.BRAND_ADMIN, region)
    elsewhere = LocationFactory(brand=brand, name="South", code="south", kind="region")
    for target in (None, elsewhere):
        with pytest.raises(NotFound) as raised:
            inbox_settings.inbox_update(actor=admin, inbox=api_inbox.inbox, location=target)
        assert raised.value.field == "location"
    inbox_settings.inbox_update(actor=admin, inbox=api_inbox.inbox, name="Ours")
    assert Inbox.objects.get(pk=api_inbox.inbox.pk).name == "Ours"


def test_lower_roles_and_sibling_managers_cannot_change_an_inbox(
    make_actor, sibling_store, store, api_inbox
):
    with pytest.raises(Forbidden):
        inbox_settings.inbox_update(actor=make_actor(Role.VIEWER), inbox=api_inbox.inbox, name="x")
    with pytest.raises(Forbidden):
        inbox_settings.inbox_update(
            actor=make_actor(Role.LOCATION_MANAGER, store), inbox=api_inbox.inbox, name="x"
        )
    with pytest.raises(NotFound):
        inbox_settings.inbox_update(
            actor=make_actor(Role.BRAND_ADMIN, sibling_store), inbox=api_inbox.inbox, name="x"
        )
    assert Inbox.objects.get(pk=api_inbox.inbox.pk).name == "Shop backend"


def test_a_switched_off_inbox_keeps_its_conversations_and_takes_no_new_messages(
    owner_actor, api_inbox
):
    inbox, token = api_inbox.inbox, api_inbox.token
    first = services.message_receive(
        inbox=inbox, provider_message_id="m1", body="Hello", email="c@example.test"
    )
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, is_active=False)
    assert Conversation.objects.filter(pk=first.message.conversation_id).exists()
    assert selectors.api_inbox_for_token(token=token) is None
    with pytest.raises(Conflict):
        services.message_receive(
            inbox=inbox, provider_message_id="m2", body="Again", email="c@example.test"
        )
    with pytest.raises(Conflict):
        services.message_send(
            actor=owner_actor, conversation=first.message.conversation, body="Reply"
        )
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, is_active=True)
    assert selectors.api_inbox_for_token(token=token) == inbox
    assert services.message_receive(
        inbox=inbox, provider_message_id="m2", body="Again", email="c@example.test"
    ).created


def test_without_automatic_assignment_new_conversations_wait(
    owner_actor, store, agent_at, api_inbox
):
    agent_at(store)
    inbox = api_inbox.inbox
    inbox_settings.inbox_update(actor=owner_actor, inbox=inbox, auto_assign=False)
    received = services.message_receive(
        inbox=inbox, provider_message_id="m1", body="Hello", email="c@example.test"
    )
    assert services.conversation_auto_assign(conversation=received.message.conversation) is None


# --- SLA targets ---


def _policies(inbox):
    return {
        p.priority: (
            p.first_response_minutes,
            p.next_response_minutes,
            p.resolution_minutes,
            p.business_hours,
        )
        for p in SlaPolicy.objects.filter(inbox=inbox)
    }


def test_sla_rows_are_set_deleted_and_left_alone(owner_actor, api_inbox):
    inbox = api_inbox.inbox
    done = inbox_settings.inbox_sla_save(
        actor=owner_actor,
        inbox=inbox,
        rows=[
            SlaRow("urgent", 15, 30, 240, business_hours=False),
            SlaRow("high", 60, None, 480),
            SlaRow("normal"),
        ],
    )
    assert done == {"urgent": "set", "high": "set"}
    assert _policies(inbox) == {"urgent": (15, 30, 240, False), "high": (60, None, 480, True)}
    assert len(_audits("inbox_sla_policy.set")) == 2
    # Unchanged rows write nothing; an emptied row deletes its policy.
    done = inbox_settings.inbox_sla_save(
        actor=owner_actor,
        inbox=inbox,
        rows=[SlaRow("urgent", 15, 30, 240, business_hours=False), SlaRow("high")],
    )
    assert done == {"high": "deleted"}
    assert _policies(inbox) == {"urgent": (15, 30, 240, False)}
    assert len(_audits("inbox_sla_policy.set")) == 2
    assert len(_audits("inbox_sla_policy.delete")) == 1


def test_an_sla_error_names_its_row_and_field_and_saves_nothing(owner_actor, api_inbox):
    inbox = api_inbox.inbox
    with pytest.raises(AppError) as raised:
        inbox_settings.inbox_sla_save(
            actor=owner_actor,
            inbox=inbox,
            rows=[SlaRow("urgent", 15, None, 240), SlaRow("high", 600, None, 60)],
        )
    assert raised.value.field == "sla-high-resolution_minutes"
    assert raised.value.message.startswith("High priority: Resolution cannot be due before")
    assert raised.value.status == 400
    assert _policies(inbox) == {}
    with pytest.raises(AppError) as raised:
        inbox_settings.inbox_sla_save(
            actor=owner_actor, inbox=inbox, rows=[SlaRow("low", 0, None, None)]
        )
    assert raised.value.field == "sla-low-first_response_minutes"
    with pytest.raises(AppError) as raised:
        inbox_settings.inbox_sla_save(actor=owner_actor, inbox=inbox, rows=[SlaRow("someday", 5)])
    assert raised.value.field == "priority"


def test_sla_targets_need_the_capability_and_reach(make_actor, sibling_store, api_inbox):
    row = [SlaRow("high", 60)]
    with pytest.raises(Forbidden):
        inbox_settings.inbox_sla_save(actor=make_actor(Role.AGENT), inbox=api_inbox.inbox, rows=row)
    with pytest.raises(NotFound):
        inbox_settings.inbox_sla_save(
            actor=make_actor(Role.BRAND_ADMIN, sibling_store), inbox=api_inbox.inbox, rows=row
        )
    assert not SlaPolicy.objects.exists()
