import pytest

from opencx.platform import selectors
from opencx.platform.errors import NotFound
from opencx.platform.roles import Role
from tests.factories import LocationFactory


def test_actor_for_a_brand_the_user_is_not_in_is_not_found(stranger, brand):
    with pytest.raises(NotFound):
        selectors.actor_for(user=stranger, brand_slug=brand.slug)


def test_brand_wide_actor_sees_every_location(owner_actor, store, sibling_store, region):
    assert set(selectors.locations_visible_to(owner_actor)) == {region, store, sibling_store}


def test_location_manager_sees_own_subtree_only(make_actor, store, sibling_store):
    child = LocationFactory(parent=store, name="Milano kiosk")
    manager = make_actor(Role.LOCATION_MANAGER, store)

    assert set(selectors.locations_visible_to(manager)) == {store, child}
    with pytest.raises(NotFound):
        selectors.location_get(manager, pk=sibling_store.pk)


def test_locations_of_other_brands_are_never_visible(owner_actor, other_brand):
    foreign = LocationFactory(brand=other_brand)
    with pytest.raises(NotFound):
        selectors.location_get(owner_actor, pk=foreign.pk)


def test_members_visible_to_a_location_manager_are_those_in_their_subtree(
    make_actor, store, sibling_store
):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    colleague = make_actor(Role.AGENT, store)
    make_actor(Role.AGENT, sibling_store)

    visible = {m.user for m in selectors.memberships_visible_to(manager)}
    assert visible == {manager.user, colleague.user}
