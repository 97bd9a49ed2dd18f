import pytest

from opencx.integrations.models import NotificationPreference, WebhookEndpoint
from opencx.integrations.services import (
    clean_url,
    notification_preference_update,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from opencx.platform.errors import AppError, Forbidden
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "ftp://x.test/",
        "file:///etc/passwd",
        "x.test/hook",
        "https://user@x.test/",
        "https://u:p@x.test/",
        "https://",
        "https://x.test:0/",
        "https://x.test:70000/",
        "https://x .test/",
        "https://x.test/\nHost: evil",
        "https://x.test/" + "a" * 2000,
    ],
)
def test_bad_urls_are_refused_on_the_url_field(url):
    with pytest.raises(AppError) as caught:
        clean_url(url)
    assert caught.value.field == "url"


@pytest.mark.parametrize("url", ["https://hooks.zapier.com/a/b?x=1", "http://127.0.0.1:8080/h"])
def test_good_urls(url):
    assert clean_url(f"  {url} ") == url


def test_create_audits_and_keeps_a_secret(owner_actor):
    endpoint = webhook_endpoint_create(
        actor=owner_actor, url="https://x.test/", events=["case.closed", "case.opened"]
    )
    assert endpoint.events == ["case.opened", "case.closed"]  # catalogue order
    assert len(endpoint.secret) > 40
    assert AuditEvent.objects.filter(action="webhook.create").exists()
    old = endpoint.secret
    assert webhook_endpoint_rotate_secret(actor=owner_actor, endpoint=endpoint) != old


def test_update_changes_only_what_is_given(owner_actor):
    endpoint = webhook_endpoint_create(actor=owner_actor, url="https://x.test/", name="A")
    webhook_endpoint_update(actor=owner_actor, endpoint=endpoint, is_active=False)
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.url, endpoint.is_active) == ("A", "https://x.test/", False)
    with pytest.raises(AppError) as caught:
        webhook_endpoint_update(actor=owner_actor, endpoint=endpoint, url="gopher://x")
    assert caught.value.field == "url"


def test_only_brand_managers_create(make_actor):
    with pytest.raises(Forbidden):
        webhook_endpoint_create(actor=make_actor(Role.CX_MANAGER), url="https://x.test/")
    assert not WebhookEndpoint.objects.exists()


def test_preferences_are_validated_and_never_half_stored(make_actor):
    actor = make_actor(Role.VIEWER)
    with pytest.raises(AppError) as caught:
        notification_preference_update(actor=actor, email_alerts=False, digest="hourly")
    assert caught.value.field == "digest"
    assert not NotificationPreference.objects.exists()
    with pytest.raises(AppError):
        notification_preference_update(actor=actor, password="x")
    saved = notification_preference_update(actor=actor, email_alerts=False)
    assert saved.email_alerts is False and saved.digest == "weekly"
