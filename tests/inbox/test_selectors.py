import pytest

from opencx.inbox import selectors
from opencx.platform.roles import Role
from tests.factories import ChannelFactory, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_channels_of_a_location_manager_are_brand_level_and_their_subtree(
    make_actor, brand, store, sibling_store
):
    shared = ChannelFactory(brand=brand, name="Shared e-mail")
    mine = ChannelFactory(brand=brand, location=store, name="Milano chat")
    ChannelFactory(brand=brand, location=sibling_store, name="Torino chat")
    manager = make_actor(Role.LOCATION_MANAGER, store)

    assert set(selectors.channels_visible_to(manager)) == {shared, mine}


def test_assignees_are_people_with_conversations_in_reach(make_actor, brand, store, sibling_store):
    mine, theirs = UserFactory(), UserFactory()
    ConversationFactory(brand=brand, location=store, assignee=mine)
    ConversationFactory(brand=brand, location=sibling_store, assignee=theirs)
    manager = make_actor(Role.LOCATION_MANAGER, store)

    assert list(selectors.assignees_visible_to(manager)) == [mine]


def test_status_counts_cover_every_tab(owner_actor, brand, store):
    for status in ["open", "open", "pending", "resolved"]:
        ConversationFactory(brand=brand, location=store, status=status)

    counts = selectors.conversation_status_counts(owner_actor, location=None)

    assert counts == {"open": 2, "pending": 1, "snoozed": 0, "resolved": 1, "all": 4}
