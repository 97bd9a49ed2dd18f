"""The alerts API: rules CRUD with field-named errors, alerts in reach, acknowledging."""

from datetime import date

import pytest

from opencx.insights.models import Alert, AlertRule
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create
from tests.factories import ChannelFactory, LocationFactory

BASE = "/api/v1/brands/bottega"


def headers(user):
    return {"Authorization": f"Bearer {api_token_create(user=user, name='t').secret}"}


def call(client, method, path, user, body=None):
    return getattr(client, method)(
        BASE + path,
        data=body if body is not None else {},
        content_type="application/json",
        headers=headers(user),
    )


@pytest.fixture
def alert(brand, store):
    rule = AlertRule.objects.create(brand=brand, name="Watch", kind="keyword", keywords=["x"])
    return Alert.objects.create(
        brand=brand, rule=rule, location=store, kind="keyword", title="“x” mentioned",
        details={"count": 1}, items=[1], window_end=date(2026, 6, 1), key="k",
    )  # fmt: skip


def test_rules_crud(client, brand, owner, store):
    channel = ChannelFactory(brand=brand, name="Google")
    body = {"name": "Negatives", "kind": "negative_share", "location_id": store.pk}
    created = call(client, "post", "/alert-rules", owner, body)
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["min_n"] == 30 and rule["alpha"] == 0.05 and rule["location_id"] == store.pk

    listed = call(client, "get", "/alert-rules", owner).json()
    assert [r["id"] for r in listed["items"]] == [rule["id"]]

    patched = call(
        client, "patch", f"/alert-rules/{rule['id']}", owner,
        {"kind": "rating_drop", "threshold": 0.5, "location_id": None, "channel_id": channel.pk,
         "group_by": "channel"},
    )  # fmt: skip
    assert patched.status_code == 200, patched.json()
    assert patched.json()["location_id"] is None and patched.json()["channel_id"] == channel.pk
    assert patched.json()["threshold"] == 0.5

    assert call(client, "delete", f"/alert-rules/{rule['id']}", owner).status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"alpha": 3}, "alpha", 400),
        ({"min_n": 0}, "min_n", 400),
        ({"kind": "keyword"}, "keywords", 400),
        ({"kind": "keyword", "keywords": ["ok", 5]}, None, 422),
        ({"location_id": 999999}, "location_id", 404),
        ({"channel_id": 999999}, "channel_id", 404),
    ],
)
def test_hostile_rule_bodies_name_the_field(client, owner, body, field, status):
    response = call(
        client, "post", "/alert-rules", owner, {"name": "n", "kind": "rating_drop", **body}
    )
    assert response.status_code == status, response.json()
    if field:
        assert response.json()["field"] == field
    assert not AlertRule.objects.exists()


def test_a_location_of_another_brand_is_not_found(client, owner, other_brand):
    foreign = LocationFactory(brand=other_brand, code="foreign")
    body = {"name": "n", "kind": "negative_share", "location_id": foreign.pk}
    response = call(client, "post", "/alert-rules", owner, body)
    assert response.status_code == 404 and response.json()["field"] == "location_id"


def test_rule_writes_need_manage_feedback(client, make_actor, alert):
    agent = make_actor(Role.AGENT).user
    assert call(client, "post", "/alert-rules", agent, {"name": "n"}).status_code == 403
    assert call(client, "delete", f"/alert-rules/{alert.rule_id}", agent).status_code == 403
    assert call(client, "get", f"/alert-rules/{alert.rule_id}", agent).status_code == 200


def test_alerts_in_reach_and_acknowledging(
    client, brand, owner, store, sibling_store, make_actor, alert
):
    listed = call(client, "get", "/alerts?state=open", owner).json()
    assert [a["id"] for a in listed["items"]] == [alert.pk]
    assert listed["items"][0]["details"] == {"count": 1}

    sibling = make_actor(Role.LOCATION_MANAGER, sibling_store).user
    assert call(client, "get", "/alerts", sibling).json()["items"] == []
    assert call(client, "get", f"/alerts/{alert.pk}", sibling).status_code == 404
    assert call(client, "post", f"/alerts/{alert.pk}/acknowledge", sibling).status_code == 404

    viewer = make_actor(Role.VIEWER).user
    assert call(client, "post", f"/alerts/{alert.pk}/acknowledge", viewer).status_code == 403

    manager = make_actor(Role.LOCATION_MANAGER, store).user
    done = call(client, "post", f"/alerts/{alert.pk}/acknowledge", manager)
    assert done.status_code == 200 and done.json()["acknowledged_by_id"] == manager.pk
    assert call(client, "get", "/alerts?state=open", owner).json()["items"] == []
    assert call(client, "get", "/alerts?state=acknowledged", owner).json()["count"] == 1
    assert call(client, "get", f"/alerts?location={sibling_store.pk}", owner).json()["count"] == 0


def test_another_brand_gets_404(client, stranger, alert):
    assert call(client, "get", "/alerts", stranger).status_code == 404
    assert call(client, "get", f"/alerts/{alert.pk}", stranger).status_code == 404
