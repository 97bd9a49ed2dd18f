"""Fixtures for the closed loop: a store with opening hours, its manager and the CX manager."""

import pytest

from opencx.platform.roles import Role
from tests.factories import ContactFactory, IdentityFactory, MembershipFactory


@pytest.fixture
def manager(store):
    """The store's location manager (the default owner of its cases)."""
    return MembershipFactory(
        brand=store.brand, role=Role.LOCATION_MANAGER, location=store, user__email="m@shop.test"
    ).user


@pytest.fixture
def cx_manager(brand):
    return MembershipFactory(brand=brand, role=Role.CX_MANAGER, user__email="cx@shop.test").user


@pytest.fixture
def customer(brand):
    """A customer with an e-mail address who consented to e-mail."""
    contact = ContactFactory(brand=brand, name="Giulia Rossi", consent_email=True, language="en")
    IdentityFactory(contact=contact, value="giulia@example.test", is_primary=True)
    return contact
