import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.contacts import services
from opencx.contacts.models import Contact, Identity
from opencx.contacts.services import (
    contact_find_or_create,
    contact_find_or_create_in_brand,
    normalise_email,
    normalise_phone,
)
from opencx.platform.errors import AppError, Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from tests.factories import ContactFactory, IdentityFactory


def test_a_new_person_becomes_a_contact_with_identities_and_consent(owner_actor, store):
    contact, created = contact_find_or_create(
        actor=owner_actor,
        email=" Ada@Example.TEST ",
        phone="0044 7700 900123",
        name="Ada",
        language="IT",
        home_location=store,
        consent=True,
    )
    assert created
    assert (contact.name, contact.language, contact.home_location) == ("Ada", "it", store)
    assert contact.consent_email and contact.consent_sms and contact.consent_updated_at
    assert set(contact.identities.values_list("kind", "value", "is_primary")) == {
        ("email", "ada@example.test", True),
        ("phone", "+447700900123", True),
    }
    assert AuditEvent.objects.filter(action="contact.create", object_id=str(contact.pk)).exists()


def test_without_consent_nothing_is_allowed(owner_actor, store):
    contact, _created = contact_find_or_create(
        actor=owner_actor, email="b@example.test", home_location=store
    )
    assert not contact.consent_email and not contact.consent_sms
    assert contact.consent_updated_at is None


def test_an_existing_contact_is_found_by_any_identity_and_keeps_its_consent(
    owner_actor, brand, store
):
    existing = ContactFactory(brand=brand, name="", language="", consent_email=False)
    IdentityFactory(contact=existing, kind=Identity.Kind.PHONE, value="+393331234567")

    contact, created = contact_find_or_create(
        actor=owner_actor,
        email="found@example.test",
        phone="+39 333 123 4567",
        name="Bea",
        language="it",
        home_location=store,
        consent=True,
    )
    assert not created and contact == existing
    contact.refresh_from_db()
    assert (contact.name, contact.language, contact.consent_email) == ("Bea", "it", False)
    assert contact.identities.filter(kind="email", value="found@example.test").exists()
    assert Contact.objects.count() == 1


def test_a_customer_known_by_their_only_identity_is_one_read(
    brand, store, django_assert_num_queries
):
    existing = ContactFactory(brand=brand, name="Bea", language="it")
    IdentityFactory(contact=existing, kind=Identity.Kind.EMAIL, value="bea@example.test")

    with django_assert_num_queries(1):  # no savepoint, no write
        contact, created = contact_find_or_create_in_brand(
            brand=brand, actor_user=None, email="BEA@example.test", name="Other name"
        )
    assert (contact, created, contact.name) == (existing, False, "Bea")


def test_a_blank_name_of_a_known_customer_is_filled(brand):
    existing = ContactFactory(brand=brand, name="", language="")
    IdentityFactory(contact=existing, kind=Identity.Kind.PHONE, value="+393331234567")
    contact, created = contact_find_or_create_in_brand(
        brand=brand, actor_user=None, phone="+39 333 123 4567", name="Bea", language="IT"
    )
    existing.refresh_from_db()
    assert not created and (existing.name, existing.language) == ("Bea", "it")


def test_a_contact_recorded_at_the_same_moment_is_the_one_found(brand, monkeypatch):
    """Another request records the customer between our look and our insert: the unique
    identity refuses ours, and theirs is returned; nothing of ours is left."""
    theirs = ContactFactory(brand=brand)
    IdentityFactory(contact=theirs, kind=Identity.Kind.EMAIL, value="race@example.test")
    real_match, looks = services._match, []

    def not_there_yet(brand_id, identities):
        looks.append(identities)
        return None if len(looks) == 1 else real_match(brand_id, identities)

    monkeypatch.setattr(services, "_match", not_there_yet)
    contact, created = contact_find_or_create_in_brand(
        brand=brand, actor_user=None, email="race@example.test"
    )
    assert (contact, created) == (theirs, False)
    assert len(looks) == 2  # the look before, and the one after the refused insert
    assert Contact.objects.count() == 1 and Identity.objects.count() == 1
    assert not AuditEvent.objects.filter(action="contact.create").exists()


def test_an_identity_of_another_contact_is_not_moved(owner_actor, brand, store):
    first = ContactFactory(brand=brand)
    IdentityFactory(contact=first, kind=Identity.Kind.EMAIL, value="one@example.test")
    second = ContactFactory(brand=brand)
    IdentityFactory(contact=second, kind=Identity.Kind.PHONE, value="+447700900999")
    contact, _ = contact_find_or_create(
        actor=owner_actor, email="one@example.test", phone="+447700900999", home_location=store
    )
    assert contact == first
    assert Identity.objects.get(value="+447700900999").contact == second


def test_another_brands_identity_is_not_matched(owner_actor, other_brand, store):
    foreign = ContactFactory(brand=other_brand)
    IdentityFactory(contact=foreign, kind=Identity.Kind.EMAIL, value="same@example.test")
    contact, created = contact_find_or_create(
        actor=owner_actor, email="same@example.test", home_location=store
    )
    assert created and contact.brand_id == owner_actor.brand.pk


def test_reach_and_role_are_checked(make_actor, store, sibling_store):
    with pytest.raises(Forbidden):
        contact_find_or_create(actor=make_actor(Role.VIEWER), email="v@example.test")
    scoped = make_actor(Role.CX_MANAGER, store)
    with pytest.raises(NotFound):
        contact_find_or_create(actor=scoped, email="s@example.test", home_location=sibling_store)
    with pytest.raises(AppError, match="e-mail address or a phone"):
        contact_find_or_create(actor=scoped, home_location=store)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 7700 900123", "+447700900123"),
        ("0039-333-123-4567", "+393331234567"),
        ("+1 (415) 867.5309", "+14158675309"),
    ],
)
def test_phones_are_normalised_to_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["07700 900123", "+0 123 4567", "+44", "call me", "+4477009001234567", "+٤٤٧٧٠٠٩٠٠١٢٣"]
)
def test_numbers_without_a_country_code_are_refused(raw):
    with pytest.raises(AppError, match="international form"):
        normalise_phone(raw)


@given(st.text(max_size=40))
def test_phone_normalisation_gives_e164_or_refuses(raw):
    try:
        phone = normalise_phone(raw)
    except AppError:
        return
    assert phone.startswith("+") and phone[1:].isascii() and phone[1:].isdigit()
    assert 8 <= len(phone) <= 16
    assert normalise_phone(phone) == phone


def test_emails_are_trimmed_lower_cased_and_checked():
    assert normalise_email("  Ada@Example.TEST ") == "ada@example.test"
    with pytest.raises(AppError, match="not an e-mail address"):
        normalise_email("ada@")
