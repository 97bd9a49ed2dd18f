"""Live updates of the agent's inbox pages: the queue's fingerprint and a conversation's new
messages, scoped like every other inbox read."""

import pytest
from django.urls import reverse

from opencx.inbox import live, services
from opencx.platform.roles import Role
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(brand):
    return ChannelFactory(brand=brand, kind="web_chat", name="Web chat")


def _queue(client, brand):
    response = client.get(reverse("inbox:live_queue", args=[brand.slug]))
    assert response.status_code == 200
    return response.json()


def test_the_queue_fingerprint_changes_when_a_conversation_arrives(
    client, brand, owner, store, chat
):
    client.force_login(owner)
    page = client.get(reverse("inbox:list", args=[brand.slug])).content.decode()
    before = _queue(client, brand)
    assert f'data-version="{before["version"]}"' in page  # the page starts from the same state
    assert before["counts"]["open"] == 0
    ConversationFactory(brand=brand, location=store, channel=chat)
    after = _queue(client, brand)
    assert after["version"] != before["version"] and after["counts"]["open"] == 1
    assert _queue(client, brand)["version"] == after["version"]  # stable while nothing happens


def test_a_location_manager_is_not_told_about_another_store(
    client, brand, store, sibling_store, make_actor, chat
):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)
    before = _queue(client, brand)
    ConversationFactory(brand=brand, location=sibling_store, channel=chat)
    assert _queue(client, brand) == before


def test_new_messages_come_drawn_as_on_the_page_notes_included(
    client, brand, owner, owner_actor, store, chat
):
    conversation = ConversationFactory(brand=brand, location=store, channel=chat)
    first = MessageFactory(conversation=conversation, body="Where is my parcel?")
    client.force_login(owner)
    url = reverse("inbox:live_conversation", args=[brand.slug, conversation.pk])
    assert client.get(url, {"after": first.pk}).json()["messages"] == []
    later = MessageFactory(conversation=conversation, body="Hello? <script>x</script>")
    note = services.message_send(
        actor=owner_actor, conversation=conversation, body="Check the depot", private=True
    )
    data = client.get(url, {"after": first.pk}).json()
    assert [m["id"] for m in data["messages"]] == [later.pk, note.pk]
    html = data["messages"][0]["html"]
    assert f'data-message-id="{later.pk}"' in html and "&lt;script&gt;" in html
    assert "Internal note" in data["messages"][1]["html"]
    assert client.get(url, {"after": "x"}).status_code == 400


def test_the_conversation_version_changes_when_it_moves(
    client, brand, owner, owner_actor, store, chat
):
    conversation = ConversationFactory(brand=brand, location=store, channel=chat)
    client.force_login(owner)
    page = client.get(reverse("inbox:detail", args=[brand.slug, conversation.pk])).content
    url = reverse("inbox:live_conversation", args=[brand.slug, conversation.pk])
    before = client.get(url).json()["version"]
    assert f'data-version="{before}"'.encode() in page
    services.conversation_transition(actor=owner_actor, conversation=conversation, to="pending")
    assert client.get(url).json()["version"] != before
    assert live.conversation_version(conversation) != before


def test_another_stores_conversation_is_404(client, brand, sibling_store, store, make_actor, chat):
    conversation = ConversationFactory(brand=brand, location=sibling_store, channel=chat)
    manager = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(manager.user)
    url = reverse("inbox:live_conversation", args=[brand.slug, conversation.pk])
    assert client.get(url).status_code == 404


def test_polls_within_a_second_share_one_read_and_the_page_draws_it_fresh(
    client, brand, owner, store, chat, settings, monkeypatch, django_assert_num_queries
):
    # The suite's cache keeps nothing (tests/settings.py); this test gets a real one of its own.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-live-queue-state",
        }
    }
    monkeypatch.setattr(live, "LIVE_CACHE_SECONDS", 60)  # long enough not to lapse mid-test
    client.force_login(owner)
    first = _queue(client, brand)
    with django_assert_num_queries(3):  # session, user, membership: no aggregate
        assert _queue(client, brand) == first
    ConversationFactory(brand=brand, location=store, channel=chat)
    assert _queue(client, brand) == first  # shared until it lapses
    page = client.get(reverse("inbox:list", args=[brand.slug]))
    assert page.context["tabs"][0][2] == 1  # the page counts afresh, and refreshes the share
    after = _queue(client, brand)
    assert after["counts"]["open"] == 1
    assert f'data-version="{after["version"]}"' in page.content.decode()


def test_the_rows_fingerprint_ignores_a_customer_writing_again_in_a_waiting_conversation(
    client, brand, owner, store, api_channel
):
    inbox, _token = api_channel
    services.message_receive(
        inbox=inbox, provider_message_id="m1", body="Where is my order?", email="a@example.test"
    )
    client.force_login(owner)
    before = _queue(client, brand)
    services.message_receive(
        inbox=inbox, provider_message_id="m2", body="Hello?", email="a@example.test"
    )
    again = _queue(client, brand)
    assert again == before  # the row shows the same: nothing to redraw
    services.message_receive(
        inbox=inbox, provider_message_id="m3", body="My parcel", email="b@example.test"
    )
    after = _queue(client, brand)
    assert after["version"] != before["version"] and after["counts"]["open"] == 2


def test_the_poll_answers_for_the_page_it_was_asked_from(client, brand, owner, store, chat):
    pending = ConversationFactory(brand=brand, location=store, channel=chat, status="pending")
    client.force_login(owner)
    url = reverse("inbox:live_queue", args=[brand.slug])
    page = client.get(reverse("inbox:list", args=[brand.slug]), {"status": "pending"})
    before = client.get(url, {"status": "pending"}).json()
    assert f'data-version="{before["version"]}"' in page.content.decode()
    assert before["counts"]["pending"] == 1

    ConversationFactory(brand=brand, location=store, channel=chat)  # open: another tab
    after = client.get(url, {"status": "pending"}).json()
    assert after["version"] == before["version"]  # the pending rows did not change
    assert after["counts"]["open"] == before["counts"]["open"] + 1  # the badges follow

    pending.status = "open"
    pending.save()
    assert client.get(url, {"status": "pending"}).json()["version"] != before["version"]
