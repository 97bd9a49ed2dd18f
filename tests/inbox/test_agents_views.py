"""Agents' availability and capacity: the toggle on the queue page and the agents page
(agents_views.py), and what automatic assignment makes of them."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from opencx.inbox import services
from opencx.inbox.models import AgentStatus, Conversation
from opencx.platform.roles import Role
from tests.factories import ConversationFactory, LocationFactory

pytestmark = pytest.mark.django_db


def _url(brand, name, *args):
    return reverse(f"inbox:{name}", args=[brand.slug, *args])


def _said(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _status(actor):
    return AgentStatus.objects.filter(user=actor.user, brand=actor.brand).first()


def _open_for(brand, store, user, n, status=Conversation.Status.OPEN):
    for _ in range(n):
        ConversationFactory(brand=brand, location=store, assignee=user, status=status)


# --- my availability, on the queue page ---


def test_an_agent_toggles_their_availability_from_the_queue(client, brand, store, make_actor):
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    queue = client.get(_url(brand, "list"))
    html = queue.content.decode()
    assert queue.status_code == 200
    assert _url(brand, "my-status") in html and "Away" in html and "0 of 10 open" in html
    assert 'name="available" value="1"' in html
    assert html.count('aria-label="My availability"') == 1
    assert _url(brand, "agents") in html

    back_to = _url(brand, "list") + "?status=pending&channel=3"
    on = client.post(_url(brand, "my-status"), {"available": "1", "next": back_to})
    assert on.status_code == 303 and on["Location"] == back_to
    assert _status(agent).available is True
    assert "You are available" in _said(on)[0]
    html = client.get(_url(brand, "list")).content.decode()
    assert "Available for new conversations" in html and 'name="available" value="0"' in html

    off = client.post(_url(brand, "my-status"), {"available": "0"})
    assert off.status_code == 303 and off["Location"] == _url(brand, "list")
    assert _status(agent).available is False


def test_the_toggle_shows_open_conversations_against_capacity(
    client, brand, other_brand, store, agent_at
):
    agent = agent_at(store, capacity=12)
    _open_for(brand, store, agent.user, 7)
    _open_for(brand, store, agent.user, 2, status=Conversation.Status.RESOLVED)
    elsewhere = LocationFactory(brand=other_brand)
    _open_for(other_brand, elsewhere, agent.user, 3)  # capacity counts this brand's only
    client.force_login(agent.user)
    assert "7 of 12 open" in client.get(_url(brand, "list")).content.decode()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.test/b/bottega/inbox/",
        "//evil.test/b/bottega/inbox/",
        "/b/bottega/settings/",
        "/b/bottega/inbox/\\\\evil.test",
    ],
)
def test_the_toggle_goes_back_only_to_the_queue_on_this_site(
    client, brand, store, make_actor, target
):
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    response = client.post(_url(brand, "my-status"), {"available": "1", "next": target})
    assert response.status_code == 303 and response["Location"] == _url(brand, "list")


@pytest.mark.parametrize(
    ("data", "field_words"),
    [({"available": "maybe"}, "Availability"), ({"capacity": "lots"}, "Capacity")],
)
def test_bad_toggle_input_is_a_400_naming_the_field(
    client, brand, store, make_actor, data, field_words
):
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    response = client.post(_url(brand, "my-status"), data)
    assert response.status_code == 400
    assert field_words in response.content.decode()
    assert _status(agent) is None


def test_the_toggle_takes_only_posts(client, brand, make_actor):
    agent = make_actor(Role.AGENT)
    client.force_login(agent.user)
    assert client.get(_url(brand, "my-status")).status_code == 405


def test_viewers_do_not_get_the_toggle(client, brand, make_actor):
    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    html = client.get(_url(brand, "list")).content.decode()
    assert _url(brand, "my-status") not in html
    assert _url(brand, "agents") in html  # the read-only agents page is still linked
    assert client.post(_url(brand, "my-status"), {"available": "1"}).status_code == 403
    assert _status(viewer) is None


# --- the agents page ---


@pytest.fixture
def team(brand, store, sibling_store, make_actor, agent_at):
    """An available agent at the store, an away one at the sibling store, a brand-wide CX
    manager, and a viewer (who may not reply)."""
    return {
        "milano": agent_at(store, capacity=4),
        "torino": make_actor(Role.AGENT, sibling_store),
        "cx": make_actor(Role.CX_MANAGER),
        "viewer": make_actor(Role.VIEWER),
    }


def test_managers_see_every_agent_and_change_anyones_status(client, brand, store, owner, team):
    milano = team["milano"].user
    _open_for(brand, store, milano, 3)
    client.force_login(owner)
    page = client.get(_url(brand, "agents"))
    html = page.content.decode()
    assert page.status_code == 200
    for key in ("milano", "torino", "cx"):
        assert f'id="agent-{team[key].user.pk}"' in html
    assert f'id="agent-{team["viewer"].user.pk}"' not in html
    assert _url(brand, "agent-status", milano.pk) in html
    assert "Available" in html and "Away" in html

    torino = team["torino"]
    saved = client.post(
        _url(brand, "agent-status", torino.user.pk), {"available": "1", "capacity": "6"}
    )
    assert saved.status_code == 302 and saved["Location"] == _url(brand, "agents")
    status = _status(torino)
    assert status.available is True and status.capacity == 6


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"available": "1", "capacity": "2000"}, "capacity", "Capacity is a number from 0 to 1000"),
        ({"available": "1", "capacity": "-3"}, "capacity", "Capacity is a whole number"),
        ({"available": "perhaps", "capacity": "5"}, "available", "Availability is either"),
    ],
)
def test_capacity_and_availability_errors_are_shown_on_the_page(
    client, brand, owner, team, data, field, message
):
    milano = team["milano"]
    client.force_login(owner)
    response = client.post(_url(brand, "agent-status", milano.user.pk), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html and message in html and str(milano.user) in html
    assert html.count('aria-invalid="true"') == 1  # on the one field at fault
    assert f'value="{data["capacity"]}"' in html  # what was typed stays in the box
    status = _status(milano)
    assert status.available is True and status.capacity == 4  # nothing changed


def test_agents_and_viewers_see_the_page_read_only(client, brand, make_actor, team):
    for actor in (make_actor(Role.AGENT), team["viewer"]):  # brand-wide: they see Torino
        client.force_login(actor.user)
        html = client.get(_url(brand, "agents")).content.decode()
        assert "Read-only" in html
        assert 'action="' + _url(brand, "agent-status", team["torino"].user.pk) not in html
        refused = client.post(
            _url(brand, "agent-status", team["torino"].user.pk), {"available": "1"}
        )
        assert refused.status_code == 403
    assert _status(team["torino"]) is None


def test_the_agent_status_route_takes_only_posts(client, brand, owner, team):
    client.force_login(owner)
    assert client.get(_url(brand, "agent-status", team["milano"].user.pk)).status_code == 405


def test_a_location_manager_sees_agents_of_their_reach_only(client, brand, store, make_actor, team):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)
    html = client.get(_url(brand, "agents")).content.decode()
    assert f'id="agent-{team["milano"].user.pk}"' in html
    assert f'id="agent-{team["torino"].user.pk}"' not in html
    assert f'id="agent-{team["cx"].user.pk}"' not in html  # brand-wide, as on the members page
    torino = team["torino"].user.pk
    assert client.post(_url(brand, "agent-status", torino), {"available": "1"}).status_code == 404


def test_people_of_another_brand_get_404(client, brand, other_brand, owner, stranger, team):
    client.force_login(stranger)
    milano = team["milano"].user.pk
    assert client.get(_url(brand, "agents")).status_code == 404
    assert client.post(_url(brand, "my-status"), {"available": "1"}).status_code == 404
    assert client.post(_url(brand, "agent-status", milano), {"available": "0"}).status_code == 404
    assert _status(team["milano"]).available is True
    # ...and our owner cannot reach the stranger through our brand.
    client.force_login(owner)
    response = client.post(_url(brand, "agent-status", stranger.pk), {"available": "1"})
    assert response.status_code == 404
    assert not AgentStatus.objects.filter(user=stranger).exists()


def test_members_who_may_not_reply_are_not_agents(client, brand, owner, team):
    client.force_login(owner)
    viewer = team["viewer"].user.pk
    assert client.post(_url(brand, "agent-status", viewer), {"available": "1"}).status_code == 404


# --- what automatic assignment makes of it ---


def test_an_agent_who_goes_away_gets_no_new_conversations(client, brand, store, agent_at, owner):
    first = agent_at(store)
    second = agent_at(store)
    client.force_login(first.user)
    client.post(_url(brand, "my-status"), {"available": "0"})
    for _ in range(3):
        conversation = ConversationFactory(brand=brand, location=store)
        assert services.conversation_auto_assign(conversation=conversation) == second.user

    client.force_login(owner)  # a manager sends the other away too: nobody takes it
    client.post(_url(brand, "agent-status", second.user.pk), {"available": "0"})
    waiting = ConversationFactory(brand=brand, location=store)
    assert services.conversation_auto_assign(conversation=waiting) is None
    waiting.refresh_from_db()
    assert waiting.assignee is None

    client.force_login(first.user)  # back again: assigned at once on the next try
    client.post(_url(brand, "my-status"), {"available": "1"})
    assert services.conversation_auto_assign(conversation=waiting) == first.user


def test_a_capacity_set_on_the_page_stops_assignment_there(client, brand, store, agent_at, owner):
    agent = agent_at(store, capacity=10)
    _open_for(brand, store, agent.user, 2)
    client.force_login(owner)
    client.post(_url(brand, "agent-status", agent.user.pk), {"capacity": "2"})
    conversation = ConversationFactory(brand=brand, location=store)
    assert services.conversation_auto_assign(conversation=conversation) is None
    client.post(_url(brand, "agent-status", agent.user.pk), {"capacity": "3"})
    assert services.conversation_auto_assign(conversation=conversation) == agent.user
