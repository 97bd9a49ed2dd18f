import pytest
from django.core import mail
from django.urls import reverse

from opencx.platform.models import AuditEvent, Brand, Membership, Touchpoint, User
from opencx.platform.roles import Role
from tests.factories import MembershipFactory, TouchpointFactory, UserFactory


def url(name, brand, *args):
    return reverse(f"settings:{name}", args=[brand.slug, *args])


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


# Brand


def test_settings_page_keeps_its_name_and_shows_the_brand_form(signed_in, brand):
    page = signed_in.get(reverse("settings:brand", args=[brand.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Bottega"' in html
    assert 'aria-label="Settings sections"' in html
    for section in ("members", "touchpoints", "audit"):
        assert url(section, brand) in html


def test_owner_edits_the_brand(signed_in, brand):
    response = signed_in.post(
        url("brand", brand),
        {
            "name": "Bottega Nuova",
            "default_language": "cy",
            "languages": "it, en",
            "timezone": "Europe/Rome",
        },
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.name == "Bottega Nuova"
    assert brand.timezone == "Europe/Rome"
    assert brand.default_language == "cy"
    assert brand.languages == ["cy", "it", "en"]  # the default language is always in use
    event = AuditEvent.objects.get(action="brand.update")
    assert event.changes["name"] == ["Bottega", "Bottega Nuova"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("languages", "it, xx"), ("name", "   ")],
)
def test_brand_form_errors_are_shown_on_the_field(signed_in, brand, field, value):
    data = {"name": "B", "default_language": "en", "languages": "en", "timezone": "UTC"}
    response = signed_in.post(url("brand", brand), {**data, field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    brand.refresh_from_db()
    assert brand.name == "Bottega"


def test_cx_manager_sees_the_brand_read_only_and_may_not_change_it(client, brand, make_actor):
    actor = make_actor(Role.CX_MANAGER)
    client.force_login(actor.user)
    page = client.get(url("brand", brand))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<form method="post" class="stacked"' not in html
    assert "may not change them" in html
    response = client.post(
        url("brand", brand),
        {"name": "Hijack", "default_language": "en", "languages": "en", "timezone": "UTC"},
    )
    assert response.status_code == 403
    assert Brand.objects.get(pk=brand.pk).name == "Bottega"


# Members


def test_members_list_shows_people_and_roles(signed_in, brand, owner, store, make_actor):
    agent = make_actor(Role.AGENT, store)
    page = signed_in.get(url("members", brand))
    assert page.status_code == 200
    html = page.content.decode()
    assert owner.email in html and agent.user.email in html
    assert "Milano Centro" in html
    assert 'name="email"' in html  # the invitation form


def test_members_list_keeps_its_query_count_flat(
    signed_in, brand, store, make_actor, django_assert_max_num_queries
):
    for _ in range(3):
        make_actor(Role.AGENT, store)
    with django_assert_max_num_queries(12) as few:
        signed_in.get(url("members", brand))
    for _ in range(20):
        make_actor(Role.AGENT, store)
    with django_assert_max_num_queries(len(few.captured_queries)):
        signed_in.get(url("members", brand))


def test_location_manager_sees_only_members_of_their_subtree_read_only(
    client, brand, owner, store, sibling_store, make_actor
):
    manager = make_actor(Role.LOCATION_MANAGER, store)
    colleague = make_actor(Role.AGENT, store)
    elsewhere = make_actor(Role.AGENT, sibling_store)
    client.force_login(manager.user)
    page = client.get(url("members", brand))
    assert page.status_code == 200
    html = page.content.decode()
    assert colleague.user.email in html
    assert elsewhere.user.email not in html and owner.email not in html
    assert 'name="email"' not in html
    assert client.get(url("member", brand, elsewhere.membership.pk)).status_code == 404


def test_invite_creates_the_member_and_sends_a_set_password_mail(
    signed_in, brand, store, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            url("members", brand),
            {"email": "Nuovo@Example.test", "role": Role.AGENT, "location": store.pk},
        )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="nuovo@example.test")
    assert (membership.brand, membership.role, membership.location) == (brand, Role.AGENT, store)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nuovo@example.test"]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_inviting_an_existing_member_shows_the_error_on_the_email_field(signed_in, brand, owner):
    response = signed_in.post(url("members", brand), {"email": owner.email, "role": Role.VIEWER})
    assert response.status_code == 409
    assert "member of this brand already" in response.context["invite_form"].errors["email"][0]


def test_location_manager_invite_needs_a_location(signed_in, brand):
    response = signed_in.post(
        url("members", brand), {"email": "lm@example.test", "role": Role.LOCATION_MANAGER}
    )
    assert response.status_code == 400
    assert response.context["invite_form"].errors["location"]
    assert not User.objects.filter(email="lm@example.test").exists()


def test_brand_admin_cannot_make_someone_an_owner(client, brand, make_actor):
    admin = make_actor(Role.BRAND_ADMIN)
    client.force_login(admin.user)
    response = client.post(url("members", brand), {"email": "boss@example.test", "role": "owner"})
    assert response.status_code == 403
    assert "Only an owner" in response.content.decode()
    assert not Membership.objects.filter(user__email="boss@example.test").exists()


def test_cx_manager_cannot_invite_anyone(client, brand, make_actor):
    manager = make_actor(Role.CX_MANAGER)
    client.force_login(manager.user)
    page = client.get(url("members", brand))
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()
    response = client.post(url("members", brand), {"email": "boss@example.test", "role": "owner"})
    assert response.status_code == 403
    assert not User.objects.filter(email="boss@example.test").exists()


def test_owner_changes_a_role_and_scope(signed_in, brand, store, make_actor):
    agent = make_actor(Role.AGENT)
    response = signed_in.post(
        url("member", brand, agent.membership.pk),
        {"role": Role.LOCATION_MANAGER, "location": store.pk},
    )
    assert response.status_code == 302
    agent.membership.refresh_from_db()
    assert (agent.membership.role, agent.membership.location) == (Role.LOCATION_MANAGER, store)


def test_the_last_owner_cannot_be_demoted(signed_in, brand, owner):
    membership = owner.memberships.get()
    page = signed_in.get(url("member", brand, membership.pk))
    assert page.status_code == 200
    response = signed_in.post(url("member", brand, membership.pk), {"role": Role.VIEWER})
    assert response.status_code == 409
    assert "at least one owner" in response.context["form"].errors["role"][0]
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_brand_admin_cannot_demote_an_owner(client, brand, owner, make_actor):
    admin = make_actor(Role.BRAND_ADMIN)
    client.force_login(admin.user)
    membership = owner.memberships.get()
    response = client.post(url("member", brand, membership.pk), {"role": Role.VIEWER})
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_owner_removes_a_member(signed_in, brand, make_actor):
    viewer = make_actor(Role.VIEWER)
    response = signed_in.post(url("member-remove", brand, viewer.membership.pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=viewer.membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.delete").exists()


def test_the_last_owner_cannot_be_removed(signed_in, brand, owner):
    membership = owner.memberships.get()
    response = signed_in.post(url("member-remove", brand, membership.pk), follow=True)
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


# Touchpoints


def test_touchpoints_add_rename_and_deactivate(signed_in, brand):
    response = signed_in.post(url("touchpoints", brand), {"name": "Click and collect"})
    assert response.status_code == 302
    touchpoint = Touchpoint.objects.get(brand=brand, key="click-and-collect")

    prefix = f"tp{touchpoint.pk}"
    response = signed_in.post(
        url("touchpoint", brand, touchpoint.pk),
        {f"{prefix}-name": "Pick-up point", f"{prefix}-description": "Lockers"},
    )
    assert response.status_code == 302
    touchpoint.refresh_from_db()
    assert (touchpoint.name, touchpoint.description, touchpoint.is_active) == (
        "Pick-up point",
        "Lockers",
        False,
    )
    page = signed_in.get(url("touchpoints", brand))
    assert "Pick-up point" in page.content.decode() and "Inactive" in page.content.decode()


def test_a_duplicate_touchpoint_key_is_shown_on_the_field(signed_in, brand):
    TouchpointFactory(brand=brand, key="store", name="Store")
    response = signed_in.post(url("touchpoints", brand), {"name": "Store again", "key": "store"})
    assert response.status_code == 409
    assert response.context["add_form"].errors["key"]


def test_touchpoint_of_another_brand_is_404(signed_in, brand, other_brand):
    theirs = TouchpointFactory(brand=other_brand)
    response = signed_in.post(
        url("touchpoint", brand, theirs.pk), {f"tp{theirs.pk}-name": "Mine now"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name != "Mine now"


# Audit log


def test_audit_log_shows_who_what_when_and_changes(signed_in, brand, owner):
    signed_in.post(
        url("brand", brand),
        {"name": "Renamed", "default_language": "en", "languages": "en", "timezone": "UTC"},
    )
    page = signed_in.get(url("audit", brand))
    assert page.status_code == 200
    html = page.content.decode()
    assert "brand.update" in html and owner.email in html
    assert "Bottega → Renamed" in html


def test_audit_log_is_paginated(signed_in, brand, owner):
    AuditEvent.objects.bulk_create(
        AuditEvent(brand=brand, actor=owner, action="x.test", object_type="x", object_id=str(i))
        for i in range(60)
    )
    first = signed_in.get(url("audit", brand))
    assert len(first.context["page"].object_list) == 50
    second = signed_in.get(url("audit", brand) + "?page=2")
    assert len(second.context["page"].object_list) == 10


def test_audit_log_of_a_location_manager_shows_only_their_own_actions(
    client, brand, owner, store, make_actor
):
    AuditEvent.objects.create(
        brand=brand, actor=owner, action="secret.owner", object_type="x", object_id="1"
    )
    manager = make_actor(Role.LOCATION_MANAGER, store)
    AuditEvent.objects.create(
        brand=brand, actor=manager.user, action="mine.manager", object_type="x", object_id="2"
    )
    client.force_login(manager.user)
    html = client.get(url("audit", brand)).content.decode()
    assert "mine.manager" in html and "secret.owner" not in html


# Access


ADMIN_POSTS = [
    ("brand", {"name": "x", "default_language": "en", "languages": "en", "timezone": "UTC"}),
    ("members", {"email": "x@example.test", "role": Role.VIEWER}),
    ("member", {"role": Role.VIEWER}),
    ("member-remove", {}),
    ("touchpoints", {"name": "x"}),
    ("touchpoint", {"name": "x"}),
]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.LOCATION_MANAGER])
@pytest.mark.parametrize(("name", "data"), ADMIN_POSTS)
def test_lower_roles_get_403_on_every_settings_post(
    client, brand, owner, store, make_actor, role, name, data
):
    target = MembershipFactory(brand=brand, role=Role.AGENT, location=store)
    touchpoint = TouchpointFactory(brand=brand)
    actor = make_actor(role, store if role == Role.LOCATION_MANAGER else None)
    client.force_login(actor.user)
    args = {"member": [target.pk], "member-remove": [target.pk], "touchpoint": [touchpoint.pk]}
    before = (Membership.objects.count(), Touchpoint.objects.count(), AuditEvent.objects.count())

    response = client.post(url(name, brand, *args.get(name, [])), data)

    assert response.status_code == 403
    after = (Membership.objects.count(), Touchpoint.objects.count(), AuditEvent.objects.count())
    assert after == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.LOCATION_MANAGER])
@pytest.mark.parametrize("name", ["brand", "members", "touchpoints", "audit"])
def test_lower_roles_can_read_settings_without_forms(client, brand, store, make_actor, role, name):
    actor = make_actor(role, store if role == Role.LOCATION_MANAGER else None)
    client.force_login(actor.user)
    page = client.get(url(name, brand))
    assert page.status_code == 200
    assert 'method="post" class="stacked"' not in page.content.decode()


@pytest.mark.parametrize("name", ["brand", "members", "touchpoints", "audit"])
def test_settings_of_another_brand_are_404(client, brand, stranger, name):
    client.force_login(stranger)
    assert client.get(url(name, brand)).status_code == 404
    assert client.post(url(name, brand), {"name": "x"}).status_code == 404


def test_member_of_another_brand_is_404(signed_in, brand, other_brand):
    theirs = MembershipFactory(brand=other_brand, user=UserFactory(), role=Role.AGENT)
    assert signed_in.get(url("member", brand, theirs.pk)).status_code == 404
    assert signed_in.post(url("member-remove", brand, theirs.pk)).status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()
