from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from opencx.platform import services
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import ApiToken, AuditEvent, Location, Membership
from opencx.platform.roles import Role
from tests.factories import LocationFactory, UserFactory


def test_brand_create_seeds_touchpoints_owner_and_audit(user):
    brand = services.brand_create(owner=user, name="Caffè Nero", languages=["it", "en"])

    assert brand.slug == "caffe-nero"
    assert brand.memberships.get().role == Role.OWNER
    assert {t.key for t in brand.touchpoints.all()} >= {"store", "delivery", "reviews", "phone"}
    assert AuditEvent.objects.filter(brand=brand, action="brand.create", actor=user).exists()


def test_brand_slug_must_be_unique(user, brand):
    with pytest.raises(Conflict) as error:
        services.brand_create(owner=user, name="Bottega")
    assert error.value.field == "slug"


def test_locations_nest_to_any_depth_and_subtrees_are_prefixes(owner_actor):
    region = services.location_create(actor=owner_actor, name="Wales", kind="region")
    city = services.location_create(actor=owner_actor, name="Cardiff", parent=region)
    store = services.location_create(
        actor=owner_actor, name="Cardiff Bay", parent=city, timezone="Europe/London", country="GB"
    )
    other = services.location_create(actor=owner_actor, name="Russia", kind="region")

    assert store.depth == 2
    assert store.path.startswith(city.path) and city.path.startswith(region.path)
    subtree = Location.objects.filter(path__startswith=region.path)
    assert set(subtree) == {region, city, store}
    assert other not in subtree
    assert AuditEvent.objects.filter(action="location.create").count() == 4


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("country", "Italy"),
        ("opening_hours", {"8": []}),
        ("opening_hours", {"0": [["19:00", "09:00"]]}),
        ("opening_hours", {"0": [["9", "x"]]}),
    ],
)
def test_location_create_names_the_bad_field(owner_actor, field, value):
    with pytest.raises(AppError) as error:
        services.location_create(actor=owner_actor, name="Napoli", **{field: value})
    assert error.value.field == field
    assert not Location.objects.filter(name="Napoli").exists()


def test_location_codes_are_unique_per_brand(owner_actor):
    services.location_create(actor=owner_actor, name="Roma", code="roma")
    with pytest.raises(Conflict):
        services.location_create(actor=owner_actor, name="Roma 2", code="roma")


def test_location_move_rewrites_the_whole_subtree(owner_actor):
    north = services.location_create(actor=owner_actor, name="North", kind="region")
    south = services.location_create(actor=owner_actor, name="South", kind="region")
    city = services.location_create(actor=owner_actor, name="Milano", parent=north)
    shop = services.location_create(actor=owner_actor, name="Milano Duomo", parent=city)

    services.location_move(actor=owner_actor, location=city, parent=south)

    shop.refresh_from_db()
    city.refresh_from_db()
    assert city.parent == south
    assert shop.path.startswith(city.path) and city.path.startswith(south.path)
    with pytest.raises(AppError):
        services.location_move(actor=owner_actor, location=south, parent=shop)


def test_location_manager_cannot_create_locations(make_actor, store):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    with pytest.raises(Forbidden):
        services.location_create(actor=manager, name="Pop-up", parent=store)


def test_cx_manager_scoped_to_a_region_cannot_reach_outside_it(make_actor, region, brand):
    elsewhere = LocationFactory(brand=brand, name="South")
    manager = make_actor(Role.CX_MANAGER, region)
    services.location_create(actor=manager, name="Bergamo", parent=region)
    with pytest.raises(NotFound):
        services.location_create(actor=manager, name="Bari", parent=elsewhere)
    with pytest.raises(Forbidden):
        services.location_create(actor=manager, name="Top level")


def test_invite_creates_user_and_mails_a_set_password_link(
    owner_actor, store, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.membership_invite(
            actor=owner_actor,
            email="Anna@Example.test",
            role=Role.LOCATION_MANAGER,
            location=store,
        )

    assert invitation.created_user
    assert invitation.membership.user.email == "anna@example.test"
    assert not invitation.membership.user.has_usable_password()
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


def test_location_manager_role_needs_a_location(owner_actor):
    with pytest.raises(AppError) as error:
        services.membership_invite(
            actor=owner_actor, email="x@example.test", role=Role.LOCATION_MANAGER
        )
    assert error.value.field == "location"


def test_only_owners_make_owners(make_actor):
    admin = make_actor(Role.BRAND_ADMIN)
    with pytest.raises(Forbidden):
        services.membership_invite(actor=admin, email="boss@example.test", role=Role.OWNER)


def test_viewer_cannot_invite(make_actor):
    with pytest.raises(Forbidden):
        services.membership_invite(
            actor=make_actor(Role.VIEWER), email="a@example.test", role=Role.VIEWER
        )


def test_the_last_owner_cannot_be_demoted_or_removed(owner_actor):
    membership = owner_actor.membership
    with pytest.raises(Conflict):
        services.membership_change(actor=owner_actor, membership=membership, role=Role.VIEWER)
    with pytest.raises(Conflict):
        services.membership_remove(actor=owner_actor, membership=membership)
    assert Membership.objects.filter(pk=membership.pk, role=Role.OWNER).exists()


def test_membership_of_another_brand_is_not_found(owner_actor, stranger):
    with pytest.raises(NotFound):
        services.membership_remove(actor=owner_actor, membership=stranger.memberships.get())


def test_api_token_is_stored_as_digest_and_authenticates_until_revoked(user):
    issued = services.api_token_create(user=user, name="warehouse sync")

    stored = ApiToken.objects.get()
    assert issued.secret.startswith("ocx_") and issued.secret not in stored.digest
    assert services.api_token_authenticate(secret=issued.secret) == user
    assert services.api_token_authenticate(secret=issued.secret + "x") is None

    services.api_token_revoke(user=user, token_id=stored.pk)
    assert services.api_token_authenticate(secret=issued.secret) is None


def test_expired_token_and_inactive_user_do_not_authenticate(user):
    issued = services.api_token_create(
        user=user, name="short", expires_at=timezone.now() + timedelta(seconds=30)
    )
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.api_token_authenticate(secret=issued.secret) is None

    other = UserFactory()
    live = services.api_token_create(user=other, name="live")
    other.is_active = False
    other.save()
    assert services.api_token_authenticate(secret=live.secret) is None


def test_token_of_someone_else_cannot_be_revoked(user):
    issued = services.api_token_create(user=UserFactory(), name="theirs")
    with pytest.raises(NotFound):
        services.api_token_revoke(user=user, token_id=issued.token.pk)


def test_a_parent_takes_more_than_nine_children(owner_actor, region):
    children = [
        services.location_create(actor=owner_actor, name=f"Shop {i}", parent=region)
        for i in range(12)
    ]
    assert len({child.path for child in children}) == 12
    assert children[-1].path.endswith("000c")
