"""The webhooks API and the caller's notification choices."""

import pytest

from opencx.integrations.models import WebhookDelivery, WebhookEndpoint
from opencx.platform.roles import Role
from opencx.platform.services import api_token_create

pytestmark = pytest.mark.usefixtures("immediate_tasks")
BASE = "/api/v1/brands/bottega"


@pytest.fixture
def api(client):
    def call(user, method, path, data=None):
        token = api_token_create(user=user, name="t").secret
        return getattr(client, method)(
            BASE + path,
            data=data if data is not None else {},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    return call


def test_create_list_update_and_delete(api, owner, receiver):
    created = api(owner, "post", "/webhooks", {"url": receiver.url, "events": ["case.closed"]})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["name"] == "127.0.0.1"
    assert body["events"] == ["case.closed"]
    listed = api(owner, "get", "/webhooks").json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    pk = body["id"]
    patched = api(owner, "patch", f"/webhooks/{pk}", {"is_active": False, "name": "Ops"})
    assert patched.status_code == 200
    assert (patched.json()["is_active"], patched.json()["name"]) == (False, "Ops")
    assert patched.json()["events"] == ["case.closed"]
    rotated = api(owner, "post", f"/webhooks/{pk}/rotate-secret").json()["secret"]
    assert WebhookEndpoint.objects.get().secret == rotated != body["secret"]
    assert api(owner, "delete", f"/webhooks/{pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://a:b@x.test/"}, "url"),
        ({"url": "https://x.test/", "events": ["nope"]}, "events"),
        ({"url": "https://x.test:99999/"}, "url"),
    ],
)
def test_bad_input_names_the_field(api, owner, payload, field):
    response = api(owner, "post", "/webhooks", payload)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not WebhookEndpoint.objects.exists()


def test_test_event_deliveries_and_replay(api, owner, receiver, committed):
    pk = api(owner, "post", "/webhooks", {"url": receiver.url}).json()["id"]
    test = committed(api, owner, "post", f"/webhooks/{pk}/test")
    assert test.status_code == 202
    assert test.json()["event"] == "ping"
    deliveries = api(owner, "get", "/webhook-deliveries", None).json()
    assert deliveries["count"] == 1
    assert deliveries["items"][0]["status"] == "delivered"
    delivery_id = deliveries["items"][0]["id"]
    replay = committed(api, owner, "post", f"/webhook-deliveries/{delivery_id}/replay")
    assert replay.status_code == 202
    assert replay.json()["replay_of_id"] == delivery_id
    assert len(receiver.requests) == 2
    one = api(owner, "get", f"/webhook-deliveries/{replay.json()['id']}").json()
    assert one["status"] == "delivered" and one["response_code"] == 200


def test_delivery_filters(api, owner, make_endpoint, brand, client):
    endpoint = make_endpoint("https://x.test/")
    for status in ("delivered", "gave_up", "gave_up"):
        WebhookDelivery.objects.create(
            brand=brand,
            endpoint=endpoint,
            event="ping",
            event_id=status + str(WebhookDelivery.objects.count()),
            payload={},
            status=status,
        )
    token = api_token_create(user=owner, name="t").secret
    headers = {"Authorization": f"Bearer {token}"}
    got = client.get(f"{BASE}/webhook-deliveries?status=gave_up", headers=headers).json()
    assert got["count"] == 2
    got = client.get(f"{BASE}/webhook-deliveries?event=case.opened", headers=headers).json()
    assert got["count"] == 0
    bad = client.get(f"{BASE}/webhook-deliveries?status=lost", headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "status"


def test_event_catalogue(api, make_actor):
    viewer = make_actor(Role.VIEWER).user
    names = [event["name"] for event in api(viewer, "get", "/webhook-events").json()]
    assert "response.received" in names and "case.escalated" in names and "ping" in names


def test_lower_roles_and_location_managers_are_refused(api, make_actor, store, make_endpoint):
    endpoint = make_endpoint("https://x.test/")
    viewer = make_actor(Role.VIEWER).user
    manager = make_actor(Role.LOCATION_MANAGER, store).user
    assert api(viewer, "get", "/webhooks").status_code == 403
    assert api(viewer, "get", f"/webhooks/{endpoint.pk}").status_code == 403
    assert api(manager, "get", f"/webhooks/{endpoint.pk}").status_code == 404
    assert api(manager, "post", "/webhooks", {"url": "https://x.test"}).status_code == 403


def test_my_notifications(api, make_actor, brand):
    agent = make_actor(Role.AGENT).user
    assert api(agent, "get", "/me/notifications").json() == {
        "email_case_assigned": True,
        "email_case_escalated": True,
        "email_case_overdue": True,
        "email_alerts": True,
        "digest": "weekly",
    }
    saved = api(agent, "put", "/me/notifications", {"email_alerts": False, "digest": "off"})
    assert saved.status_code == 200
    assert saved.json()["email_alerts"] is False and saved.json()["digest"] == "off"
    assert saved.json()["email_case_assigned"] is True
    other = make_actor(Role.AGENT).user
    assert api(other, "get", "/me/notifications").json()["digest"] == "weekly"
    bad = api(agent, "put", "/me/notifications", {"digest": "hourly"})
    assert bad.status_code == 422 and bad.json()["field"] == "digest"


def test_a_stranger_gets_404(api, stranger):
    assert api(stranger, "get", "/me/notifications").status_code == 404
    assert api(stranger, "put", "/me/notifications", {"digest": "off"}).status_code == 404
