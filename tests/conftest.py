"""Shared fixtures: a brand with a small hierarchy and one member per role."""

import pytest

from opencx.platform.actor import Actor
from opencx.platform.roles import Role

from .factories import BrandFactory, LocationFactory, MembershipFactory, UserFactory


@pytest.fixture
def brand(db):
    return BrandFactory(name="Bottega", slug="bottega", languages=["it", "en"])


@pytest.fixture
def region(brand):
    return LocationFactory(brand=brand, name="North", code="north", kind="region")


@pytest.fixture
def store(region):
    return LocationFactory(parent=region, name="Milano Centro", code="milano")


@pytest.fixture
def sibling_store(region):
    return LocationFactory(parent=region, name="Torino", code="torino")


def _member(brand, role, location=None):
    return MembershipFactory(brand=brand, role=role, location=location)


@pytest.fixture
def owner(brand):
    return _member(brand, Role.OWNER).user


@pytest.fixture
def owner_actor(brand, owner):
    return Actor(user=owner, brand=brand, membership=owner.memberships.get())


@pytest.fixture
def make_actor(brand):
    """make_actor(role, location=None) -> an Actor with a fresh user in `brand`."""

    def make(role, location=None):
        membership = _member(brand, role, location)
        return Actor(user=membership.user, brand=brand, membership=membership)

    return make


@pytest.fixture
def other_brand(db):
    return BrandFactory(name="Rival", slug="rival")


@pytest.fixture
def stranger(other_brand):
    """A user who owns another brand and nothing in ours."""
    return _member(other_brand, Role.OWNER).user


@pytest.fixture
def user(db):
    return UserFactory()
