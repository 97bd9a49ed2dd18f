import pytest

from opencx.platform.errors import Forbidden
from opencx.platform.roles import Capability, Role
from tests.factories import LocationFactory


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, True),
        (Role.BRAND_ADMIN, True),
        (Role.CX_MANAGER, False),
        (Role.LOCATION_MANAGER, False),
        (Role.AGENT, False),
        (Role.VIEWER, False),
    ],
)
def test_only_owners_and_brand_admins_manage_members(make_actor, role, allowed, store):
    actor = make_actor(role, store if role == Role.LOCATION_MANAGER else None)
    assert actor.can(Capability.MANAGE_MEMBERS) is allowed
    if not allowed:
        with pytest.raises(Forbidden):
            actor.require(Capability.MANAGE_MEMBERS)


def test_covers_follows_the_subtree_and_the_brand(make_actor, store, sibling_store, other_brand):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    assert manager.covers(store)
    assert manager.covers(LocationFactory(parent=store))
    assert not manager.covers(sibling_store)
    assert not manager.covers(None)  # brand-level rows need brand-wide reach
    assert not manager.covers(LocationFactory(brand=other_brand))
