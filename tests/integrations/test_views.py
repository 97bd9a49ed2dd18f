"""Settings → Integrations pages: owners manage webhooks; everyone edits their own notifications."""

import pytest
from django.urls import reverse

from opencx.integrations.models import NotificationPreference, WebhookDelivery, WebhookEndpoint
from opencx.integrations.signing import verify_signature
from opencx.platform.roles import Role

pytestmark = pytest.mark.usefixtures("immediate_tasks")


def _url(name, *args):
    return reverse(f"integrations:{name}", args=["bottega", *args])


def _header(request, name):
    """HTTP header names are case-insensitive (urllib sends `Opencx-signature`)."""
    return {key.lower(): value for key, value in request["headers"].items()}[name.lower()]


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_owner_adds_an_endpoint_and_sees_the_secret_once(owner_client, brand, receiver):
    response = owner_client.post(
        _url("new"),
        {
            "name": "n8n",
            "url": receiver.url,
            "kind": "webhook",
            "events": ["case.opened"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["case.opened"]
    page = owner_client.get(_url("endpoint", endpoint.pk)).content.decode()
    assert endpoint.secret not in page
    assert endpoint.secret_hint in page
    listing = owner_client.get(_url("list")).content.decode()
    assert "n8n" in listing and "case.opened" in listing


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "https://"),
        ("https://user:pw@example.com/x", "user name or password"),
        ("https:///path-only", "host name"),
        ("", "required"),
    ],
)
def test_a_bad_url_is_shown_on_the_field(owner_client, url, message):
    response = owner_client.post(_url("new"), {"name": "x", "url": url, "kind": "webhook"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_owner_edits_disables_rotates_and_deletes(owner_client, make_endpoint, receiver):
    endpoint = make_endpoint(receiver.url)
    old = endpoint.secret
    response = owner_client.post(
        _url("endpoint", endpoint.pk), {"name": "Renamed", "url": receiver.url, "kind": "slack"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.kind, endpoint.is_active) == ("Renamed", "slack", False)
    response = owner_client.post(_url("endpoint-rotate", endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()
    assert owner_client.get(_url("endpoint-rotate", endpoint.pk)).status_code == 405
    assert owner_client.post(_url("endpoint-delete", endpoint.pk)).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_send_a_test_event_then_replay_it(owner_client, make_endpoint, receiver, committed):
    endpoint = make_endpoint(receiver.url)
    response = committed(owner_client.post, _url("endpoint-test", endpoint.pk))
    delivery = WebhookDelivery.objects.get()
    assert response.url == _url("delivery", delivery.pk)
    sent = receiver.requests[0]
    assert receiver.json()["event"] == "ping"
    assert verify_signature(
        secret=endpoint.secret, header=_header(sent, "OpenCX-Signature"), body=sent["body"]
    )
    page = owner_client.get(_url("delivery", delivery.pk)).content.decode()
    assert "Delivered" in page and "OpenCX-Signature" in page and delivery.event_id in page
    response = committed(owner_client.post, _url("delivery-replay", delivery.pk))
    replay = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert response.url == _url("delivery", replay.pk)
    assert (replay.replay_of_id, replay.event_id, replay.sequence) == (
        delivery.pk,
        delivery.event_id,
        1,
    )
    assert replay.status == WebhookDelivery.Status.DELIVERED
    assert receiver.json(0)["id"] == receiver.json(1)["id"]
    assert _header(receiver.requests[1], "OpenCX-Delivery") == str(replay.pk)


def test_delivery_log_filters_and_pages(owner_client, make_endpoint, brand):
    endpoint = make_endpoint("https://example.test/hook")
    for index in range(55):
        WebhookDelivery.objects.create(
            brand=brand,
            endpoint=endpoint,
            event="ping" if index % 2 else "response.received",
            event_id=f"id-{index}",
            payload={},
            status="delivered" if index < 50 else "gave_up",
        )
    page = owner_client.get(_url("deliveries"))
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 55
    assert len(page.context["page"].object_list) == 50
    gave_up = owner_client.get(_url("deliveries"), {"status": "gave_up"}).context["page"]
    assert gave_up.paginator.count == 5
    pings = owner_client.get(_url("deliveries"), {"event": "ping", "status": "x"}).context["page"]
    assert pings.paginator.count == 27
    newest = owner_client.get(_url("deliveries")).context["page"].object_list[0]
    assert newest.event_id == "id-54"


@pytest.mark.parametrize("role", [Role.LOCATION_MANAGER, Role.CX_MANAGER, Role.VIEWER])
def test_others_may_not_manage_webhooks(client, make_actor, store, make_endpoint, role):
    endpoint = make_endpoint("https://example.test/hook")
    actor = make_actor(role, store if role == Role.LOCATION_MANAGER else None)
    client.force_login(actor.user)
    assert client.get(_url("list")).status_code == 403
    assert client.post(_url("new"), {"url": "https://x.test"}).status_code == 403
    expected = 404 if role == Role.LOCATION_MANAGER else 403
    assert client.get(_url("endpoint", endpoint.pk)).status_code == expected
    assert client.post(_url("endpoint-delete", endpoint.pk)).status_code == expected
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_another_brand_s_endpoint_is_404(owner_client, make_endpoint, other_brand):
    theirs = make_endpoint("https://example.test/hook", of_brand=other_brand)
    assert owner_client.get(_url("endpoint", theirs.pk)).status_code == 404
    assert owner_client.post(_url("endpoint-test", theirs.pk)).status_code == 404


def test_any_member_edits_their_own_notifications(client, make_actor, store, brand):
    actor = make_actor(Role.LOCATION_MANAGER, store)
    client.force_login(actor.user)
    page = client.get(_url("notifications"))
    assert page.status_code == 200
    assert page.context["form"].initial["digest"] == "weekly"
    assert "Delivery log" not in page.content.decode()
    response = client.post(_url("notifications"), {"email_case_assigned": "on", "digest": "daily"})
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=actor.user, brand=brand)
    assert (saved.email_case_assigned, saved.email_case_escalated, saved.digest) == (
        True,
        False,
        "daily",
    )
    bad = client.post(_url("notifications"), {"digest": "hourly"})
    assert bad.status_code == 400
