"""Routes of opencx.platform.api, walked as owner, sibling-store manager, viewer and stranger."""

import pytest

from opencx.platform.models import AuditEvent, Membership
from tests.factories import MembershipFactory, TouchpointFactory, UserFactory

from .conftest import assert_error

pytestmark = pytest.mark.django_db
B = "/brands/bottega"


# --- /me and /brands --------------------------------------------------------------------------


def test_me_lists_brands_with_role_and_scope(api_as, make_actor, store, other_brand):
    actor = make_actor("location_manager", store)
    MembershipFactory(user=actor.user, brand=other_brand, role="viewer")
    body = api_as(actor.user).get("/me").json()
    assert body["user"]["email"] == actor.user.email
    brands = {b["slug"]: b for b in body["brands"]}
    assert brands["bottega"]["role"] == "location_manager"
    assert brands["bottega"]["scope"] == {"id": store.pk, "name": "Milano Centro"}
    assert brands["rival"]["role"] == "viewer"
    assert brands["rival"]["scope"] is None


def test_brands_lists_only_the_callers(owner_api, stranger_api, other_brand):
    assert [b["slug"] for b in owner_api.get("/brands").json()["items"]] == ["bottega"]
    assert [b["slug"] for b in stranger_api.get("/brands").json()["items"]] == ["rival"]


def test_brand_detail(owner_api, stranger_api, brand):
    body = owner_api.get(B).json()
    assert (body["slug"], body["role"], body["languages"]) == ("bottega", "owner", ["it", "en"])
    assert_error(stranger_api.get(B), 404, "not_found")


def test_brand_patch(owner_api, viewer_api, manager_api, stranger_api, brand):
    response = owner_api.patch(B, {"name": "Bottega Srl", "timezone": "Europe/Rome"})
    assert response.status_code == 200
    assert response.json()["name"] == "Bottega Srl"
    brand.refresh_from_db()
    assert (brand.name, brand.timezone) == ("Bottega Srl", "Europe/Rome")
    assert AuditEvent.objects.filter(brand=brand, action="brand.update").exists()
    assert_error(viewer_api.patch(B, {"name": "X"}), 403, "forbidden")
    assert_error(manager_api.patch(B, {"name": "X"}), 403, "forbidden")
    assert_error(stranger_api.patch(B, {"name": "X"}), 404, "not_found")
    brand.refresh_from_db()
    assert brand.name == "Bottega Srl"


# --- locations --------------------------------------------------------------------------------


def test_locations_in_tree_order_with_depth(owner_api, region, store, sibling_store):
    items = owner_api.get(f"{B}/locations").json()["items"]
    assert [(i["name"], i["depth"], i["parent_id"]) for i in items] == [
        ("North", 0, None),
        ("Milano Centro", 1, region.pk),
        ("Torino", 1, region.pk),
    ]


def test_manager_sees_only_their_subtree(manager_api, store, sibling_store):
    body = manager_api.get(f"{B}/locations").json()
    assert [i["id"] for i in body["items"]] == [store.pk]
    assert body["count"] == 1
    assert manager_api.get(f"{B}/locations/{store.pk}").status_code == 200
    assert_error(manager_api.get(f"{B}/locations/{sibling_store.pk}"), 404, "not_found", "location")


def test_location_of_another_brand_is_404(owner_api, other_brand):
    from tests.factories import LocationFactory

    theirs = LocationFactory(brand=other_brand)
    assert_error(owner_api.get(f"{B}/locations/{theirs.pk}"), 404, "not_found", "location")


def test_location_create(owner_api, region):
    response = owner_api.post(
        f"{B}/locations",
        {"name": "Bergamo", "parent_id": region.pk, "city": "Bergamo", "country": "IT"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["depth"], body["parent_id"], body["city"]) == (
        "bergamo",
        1,
        region.pk,
        "Bergamo",
    )
    assert owner_api.get(f"{B}/locations").json()["count"] == 2


def test_location_create_checks_reach_and_role(
    api_as, make_actor, viewer_api, manager_api, stranger_api, store, sibling_store
):
    data = {"name": "Pop-up", "parent_id": sibling_store.pk}
    assert_error(viewer_api.post(f"{B}/locations", data), 403, "forbidden")
    scoped_cx = api_as(make_actor("cx_manager", store).user)
    assert_error(scoped_cx.post(f"{B}/locations", data), 404, "not_found", "location")
    assert scoped_cx.post(f"{B}/locations", {**data, "parent_id": store.pk}).status_code == 201
    assert_error(stranger_api.post(f"{B}/locations", data), 404, "not_found")


def test_location_patch(owner_api, viewer_api, manager_api, store, sibling_store):
    response = owner_api.patch(f"{B}/locations/{store.pk}", {"city": "Milano", "is_active": False})
    assert response.status_code == 200
    store.refresh_from_db()
    assert (store.city, store.is_active) == ("Milano", False)
    assert_error(viewer_api.patch(f"{B}/locations/{store.pk}", {"city": "X"}), 403, "forbidden")
    assert_error(manager_api.patch(f"{B}/locations/{store.pk}", {"city": "X"}), 403, "forbidden")
    assert_error(
        manager_api.patch(f"{B}/locations/{sibling_store.pk}", {"city": "X"}), 404, "not_found"
    )
    assert_error(
        owner_api.patch(f"{B}/locations/{store.pk}", {"country": "Italy"}),
        400,
        "invalid",
        "country",
    )


# --- touchpoints ------------------------------------------------------------------------------


def test_touchpoints(owner_api, viewer_api, stranger_api, brand, other_brand):
    TouchpointFactory(brand=brand, key="store", name="Store")
    theirs = TouchpointFactory(brand=other_brand)
    assert [t["key"] for t in viewer_api.get(f"{B}/touchpoints").json()["items"]] == ["store"]
    created = owner_api.post(f"{B}/touchpoints", {"name": "Click and collect"})
    assert created.status_code == 201
    tp = created.json()
    assert tp["key"] == "click-and-collect"
    patched = owner_api.patch(f"{B}/touchpoints/{tp['id']}", {"is_active": False})
    assert patched.json()["is_active"] is False
    assert_error(viewer_api.post(f"{B}/touchpoints", {"name": "X"}), 403, "forbidden")
    assert_error(viewer_api.patch(f"{B}/touchpoints/{tp['id']}", {"name": "X"}), 403, "forbidden")
    assert_error(owner_api.patch(f"{B}/touchpoints/{theirs.pk}", {"name": "X"}), 404, "not_found")
    assert_error(stranger_api.get(f"{B}/touchpoints"), 404, "not_found")
    assert_error(stranger_api.post(f"{B}/touchpoints", {"name": "X"}), 404, "not_found")


# --- members ----------------------------------------------------------------------------------


def test_member_list_is_scoped(owner_api, api_as, make_actor, owner, store, sibling_store):
    manager = make_actor("location_manager", store)
    colleague = make_actor("agent", store)
    make_actor("agent", sibling_store)
    assert owner_api.get(f"{B}/members").json()["count"] == 4
    emails = {m["email"] for m in api_as(manager.user).get(f"{B}/members").json()["items"]}
    assert emails == {manager.user.email, colleague.user.email}


def test_member_invite_change_remove(owner_api, brand, store):
    response = owner_api.post(
        f"{B}/members", {"email": "New@Example.test", "role": "agent", "location_id": store.pk}
    )
    assert response.status_code == 201, response.content
    member = response.json()
    assert (member["email"], member["role"], member["location"]["id"]) == (
        "new@example.test",
        "agent",
        store.pk,
    )
    changed = owner_api.patch(f"{B}/members/{member['id']}", {"role": "viewer"})
    assert (changed.json()["role"], changed.json()["location"]) == ("viewer", None)
    assert owner_api.delete(f"{B}/members/{member['id']}").status_code == 204
    assert not Membership.objects.filter(pk=member["id"]).exists()
    assert_error(owner_api.delete(f"{B}/members/{member['id']}"), 404, "not_found")


def test_member_writes_need_the_role_and_reach(
    viewer_api, manager_api, stranger_api, make_actor, owner, sibling_store
):
    other = make_actor("agent", sibling_store).membership
    invite = {"email": "x@example.test", "role": "agent"}
    assert_error(viewer_api.post(f"{B}/members", invite), 403, "forbidden")
    assert_error(viewer_api.patch(f"{B}/members/{other.pk}", {"role": "viewer"}), 403, "forbidden")
    assert_error(viewer_api.delete(f"{B}/members/{other.pk}"), 403, "forbidden")
    assert_error(manager_api.delete(f"{B}/members/{other.pk}"), 404, "not_found")
    assert_error(stranger_api.post(f"{B}/members", invite), 404, "not_found")
    assert_error(stranger_api.delete(f"{B}/members/{other.pk}"), 404, "not_found")
    assert Membership.objects.filter(pk=other.pk).exists()


def test_last_owner_cannot_be_removed(owner_api, owner):
    membership = owner.memberships.get()
    assert_error(owner_api.delete(f"{B}/members/{membership.pk}"), 409, "conflict", "role")


# --- audit trail ------------------------------------------------------------------------------


def test_audit_events(owner_api, api_as, make_actor, store, stranger_api):
    owner_api.patch(B, {"name": "Bottega 2"})
    events = owner_api.get(f"{B}/audit-events").json()["items"]
    assert events[0]["action"] == "brand.update"
    assert events[0]["changes"] == {"name": ["Bottega", "Bottega 2"]}
    manager = api_as(make_actor("location_manager", store).user)
    assert manager.get(f"{B}/audit-events").json()["count"] == 0
    assert_error(stranger_api.get(f"{B}/audit-events"), 404, "not_found")


# --- every brand route is 404 to a stranger ---------------------------------------------------


def _brand_get_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    routes = []
    for path, operations in paths.items():
        if "{slug}" in path and "get" in operations:
            url = path.removeprefix("/api/v1").replace("{slug}", "bottega")
            while "{" in url:
                start, end = url.index("{"), url.index("}")
                url = url[:start] + "1" + url[end + 1 :]
            routes.append(url)
    return routes


def test_every_brand_route_is_404_for_another_brand(stranger_api, owner, brand):
    routes = _brand_get_routes(stranger_api)
    assert len(routes) >= 13
    for url in routes:
        assert_error(stranger_api.get(url), 404, "not_found")


def test_a_user_without_brands_sees_none(api_as, brand):
    lonely = api_as(UserFactory())
    assert lonely.get("/me").json()["brands"] == []
    assert lonely.get("/brands").json() == {"count": 0, "next_offset": None, "items": []}
    assert_error(lonely.get(B), 404, "not_found")
