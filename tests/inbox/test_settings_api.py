"""The inbox's settings API (settings_api.py): agents' availability and capacity, and each
inbox's service-level policies."""

import pytest

from opencx.inbox import services
from opencx.inbox.models import AgentStatus, Conversation, SlaPolicy
from opencx.platform.actor import Actor
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create
from tests.api.conftest import ApiClient, assert_error
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def _api(user) -> ApiClient:
    return ApiClient(api_token_create(user=user, name="tests").secret)


@pytest.fixture
def team(store, sibling_store, make_actor, agent_at):
    return {
        "milano": agent_at(store, capacity=4),
        "torino": make_actor(Role.AGENT, sibling_store),
        "viewer": make_actor(Role.VIEWER),
    }


# --- agents ---


def test_the_list_holds_members_who_may_reply_with_their_load(brand, store, owner, team):
    milano = team["milano"].user
    ConversationFactory(brand=brand, location=store, assignee=milano)
    ConversationFactory(brand=brand, location=store, assignee=milano, status="resolved")
    response = _api(owner).get(f"/brands/{brand.slug}/agents")
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {row["user_id"]: row for row in body["items"]}
    assert set(rows) == {owner.pk, milano.pk, team["torino"].user.pk}  # not the viewer
    assert body["count"] == 3
    row = rows[milano.pk]
    assert row["email"] == milano.email and row["role"] == "agent"
    assert row["location"] == {"id": store.pk, "name": store.name}
    assert row["available"] is True and row["capacity"] == 4
    assert row["open_conversations"] == 1 and row["last_assigned_at"] is None
    never = rows[team["torino"].user.pk]  # never said: away, default capacity
    assert never["available"] is False and never["capacity"] == 10


def test_a_location_manager_lists_agents_of_their_reach(brand, store, make_actor, team):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    items = _api(manager.user).get(f"/brands/{brand.slug}/agents").json()["items"]
    assert {row["user_id"] for row in items} == {manager.user.pk, team["milano"].user.pk}


def test_an_agent_sets_their_own_status(brand, team):
    torino = team["torino"]
    api = _api(torino.user)
    response = api.put(f"/brands/{brand.slug}/agents/me", {"available": True, "capacity": 3})
    assert response.status_code == 200, response.content
    assert response.json()["available"] is True and response.json()["capacity"] == 3
    status = AgentStatus.objects.get(user=torino.user, brand=brand)
    assert status.available and status.capacity == 3
    assert AuditEvent.objects.filter(action="agent_status.set", actor=torino.user).exists()

    # Only what is sent changes.
    away = api.put(f"/brands/{brand.slug}/agents/me", {"available": False})
    assert away.json()["available"] is False and away.json()["capacity"] == 3


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"capacity": 1001}, 400, "capacity"),
        ({"capacity": -1}, 400, "capacity"),
        ({"capacity": "lots"}, 422, "capacity"),
        ({"available": "perhaps"}, 422, "available"),
    ],
)
def test_bad_status_input_names_the_field(brand, team, body, status, field):
    response = _api(team["milano"].user).put(f"/brands/{brand.slug}/agents/me", body)
    assert_error(response, status, "invalid", field)
    assert AgentStatus.objects.get(user=team["milano"].user).capacity == 4


def test_own_status_needs_the_right_to_reply_and_a_caller(brand, team):
    assert_error(
        _api(team["viewer"].user).put(f"/brands/{brand.slug}/agents/me", {"available": True}),
        403,
        "forbidden",
    )
    assert_error(
        ApiClient().put(f"/brands/{brand.slug}/agents/me", {"available": True}),
        401,
        "unauthorized",
    )
    assert not AgentStatus.objects.filter(user=team["viewer"].user).exists()


def test_managers_set_anyones_status(brand, owner, team):
    torino = team["torino"].user
    url = f"/brands/{brand.slug}/agents/{torino.pk}"
    response = _api(owner).put(url, {"available": True, "capacity": 8})
    assert response.status_code == 200, response.content
    assert response.json()["user_id"] == torino.pk and response.json()["capacity"] == 8
    assert AgentStatus.objects.get(user=torino).available is True
    assert_error(_api(owner).put(url, {"capacity": 5000}), 400, "invalid", "capacity")


def test_anyone_elses_status_needs_the_right_to_manage_members(brand, make_actor, team):
    url = f"/brands/{brand.slug}/agents/{team['torino'].user.pk}"
    for actor in (team["milano"], make_actor(Role.CX_MANAGER)):
        assert_error(_api(actor.user).put(url, {"available": True}), 403, "forbidden")
    assert not AgentStatus.objects.filter(user=team["torino"].user).exists()


def test_members_who_may_not_reply_or_are_elsewhere_are_404(brand, owner, stranger, team):
    api = _api(owner)
    for user in (team["viewer"].user, stranger):
        assert_error(
            api.put(f"/brands/{brand.slug}/agents/{user.pk}", {"available": True}),
            404,
            "not_found",
        )
    assert not AgentStatus.objects.filter(user=stranger).exists()


def test_another_brand_is_404_on_every_agent_route(brand, stranger, team):
    api = _api(stranger)
    milano = team["milano"].user.pk
    assert_error(api.get(f"/brands/{brand.slug}/agents"), 404, "not_found")
    assert_error(api.put(f"/brands/{brand.slug}/agents/me", {}), 404, "not_found")
    assert_error(
        api.put(f"/brands/{brand.slug}/agents/{milano}", {"available": False}), 404, "not_found"
    )
    assert AgentStatus.objects.get(user_id=milano).available is True


def test_going_away_through_the_api_stops_automatic_assignment(brand, store, team):
    milano = team["milano"]
    conversation = ConversationFactory(brand=brand, location=store)
    _api(milano.user).put(f"/brands/{brand.slug}/agents/me", {"available": False})
    assert services.conversation_auto_assign(conversation=conversation) is None
    _api(milano.user).put(f"/brands/{brand.slug}/agents/me", {"available": True})
    assert services.conversation_auto_assign(conversation=conversation) == milano.user
    conversation.refresh_from_db()
    assert conversation.assignee == milano.user and conversation.status == "open"
    row = _api(milano.user).get(f"/brands/{brand.slug}/agents").json()["items"]
    mine = next(r for r in row if r["user_id"] == milano.user.pk)
    assert mine["open_conversations"] == 1 and mine["last_assigned_at"] is not None


# --- SLA policies of an inbox ---


@pytest.fixture
def inbox(api_channel):
    return api_channel[0]


def _sla_url(brand, inbox, priority=None):
    url = f"/brands/{brand.slug}/inboxes/{inbox.pk}/sla-policies"
    return f"{url}/{priority}" if priority else url


def test_admins_set_list_and_delete_an_inboxs_policies(brand, owner, inbox):
    api = _api(owner)
    assert api.get(_sla_url(brand, inbox)).json() == []
    urgent = api.put(
        _sla_url(brand, inbox, "urgent"),
        {"first_response_minutes": 15, "resolution_minutes": 240, "business_hours": False},
    )
    assert urgent.status_code == 200, urgent.content
    assert urgent.json() == {
        "priority": "urgent",
        "first_response_minutes": 15,
        "next_response_minutes": None,
        "resolution_minutes": 240,
        "business_hours": False,
    }
    api.put(_sla_url(brand, inbox, "low"), {"first_response_minutes": 600})
    listed = api.get(_sla_url(brand, inbox)).json()
    assert [p["priority"] for p in listed] == ["low", "urgent"]  # low to urgent
    assert listed[0]["business_hours"] is True  # the default

    # PUT replaces the whole policy.
    api.put(_sla_url(brand, inbox, "urgent"), {"next_response_minutes": 30})
    policy = SlaPolicy.objects.get(inbox=inbox, priority="urgent")
    assert policy.first_response_minutes is None and policy.next_response_minutes == 30

    assert api.delete(_sla_url(brand, inbox, "urgent")).status_code == 204
    assert not SlaPolicy.objects.filter(priority="urgent").exists()
    assert_error(api.delete(_sla_url(brand, inbox, "urgent")), 404, "not_found", "priority")


def test_a_policy_applies_to_new_conversations_of_the_inbox(brand, owner, inbox):
    _api(owner).put(_sla_url(brand, inbox, "normal"), {"first_response_minutes": 60})
    received = services.message_receive(
        inbox=inbox, provider_message_id="m1", body="Hello?", email="c@example.test"
    )
    conversation = Conversation.objects.get(pk=received.message.conversation_id)
    assert conversation.sla_policy is not None and conversation.first_response_due_at


@pytest.mark.parametrize(
    ("priority", "body", "status", "field"),
    [
        ("high", {}, 400, "first_response_minutes"),
        ("high", {"first_response_minutes": 0}, 400, "first_response_minutes"),
        ("high", {"next_response_minutes": 10**7}, 400, "next_response_minutes"),
        (
            "high",
            {"first_response_minutes": 60, "resolution_minutes": 30},
            400,
            "resolution_minutes",
        ),
        ("asap", {"first_response_minutes": 60}, 400, "priority"),
        ("high", {"first_response_minutes": "soon"}, 422, "first_response_minutes"),
    ],
)
def test_bad_policies_name_the_field(brand, owner, inbox, priority, body, status, field):
    response = _api(owner).put(_sla_url(brand, inbox, priority), body)
    assert_error(response, status, "invalid", field)
    assert not SlaPolicy.objects.exists()


def test_policies_need_the_right_to_manage_the_brand(brand, make_actor, inbox, owner):
    _api(owner).put(_sla_url(brand, inbox, "high"), {"first_response_minutes": 60})
    for role in (Role.AGENT, Role.CX_MANAGER, Role.VIEWER):
        api = _api(make_actor(role).user)
        assert api.get(_sla_url(brand, inbox)).status_code == 200  # members read them
        body = {"first_response_minutes": 5}
        assert_error(api.put(_sla_url(brand, inbox, "high"), body), 403, "forbidden")
        assert_error(api.delete(_sla_url(brand, inbox, "high")), 403, "forbidden")
    assert SlaPolicy.objects.get().first_response_minutes == 60
    assert_error(ApiClient().get(_sla_url(brand, inbox)), 401, "unauthorized")


def test_another_brands_or_another_stores_inbox_is_404(
    brand, owner, stranger, inbox, make_actor, sibling_store, other_brand
):
    # A brand admin whose access is limited to another store is as far away as a stranger.
    for user in (stranger, make_actor(Role.BRAND_ADMIN, sibling_store).user):
        api = _api(user)
        assert_error(api.get(_sla_url(brand, inbox)), 404, "not_found")
        assert_error(
            api.put(_sla_url(brand, inbox, "high"), {"first_response_minutes": 5}),
            404,
            "not_found",
        )
        assert_error(api.delete(_sla_url(brand, inbox, "high")), 404, "not_found")
    # Our owner cannot reach an inbox of another brand through ours.
    theirs = services.inbox_create_api(
        actor=_actor_of(stranger, other_brand), name="Theirs", location=None
    ).inbox
    assert_error(_api(owner).get(_sla_url(brand, theirs)), 404, "not_found", "inbox_id")
    assert not SlaPolicy.objects.exists()


def _actor_of(user, brand):
    return Actor(user=user, brand=brand, membership=user.memberships.get(brand=brand))
