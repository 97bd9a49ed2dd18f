import json
import logging
import time

import pytest

from opencx.feedback import services
from opencx.feedback.models import FeedbackItem
from opencx.feedback.webhooks import MAX_BODY, signed_headers


@pytest.fixture
def source(owner_actor, store):
    return services.webhook_source_create(actor=owner_actor, name="Widget")


def post(client, source, body: bytes, *, headers=None, secret=None):
    headers = (
        headers
        if headers is not None
        else signed_headers(secret=secret or source.secret, body=body)
    )
    return client.post(
        f"/api/v1/feedback/webhooks/{source.key}",
        data=body,
        content_type="application/json",
        headers=headers,
    )


ITEM = {
    "external_id": "h1",
    "occurred_at": "2025-01-01T10:00:00Z",
    "text": "Buonissimo",
    "rating": 5,
    "location": "milano",
}


def test_a_signed_item_is_stored_once(client, source, store):
    body = json.dumps(ITEM).encode()
    first = post(client, source, body)
    assert first.status_code == 200, first.json()
    assert first.json()["created"] == 1
    again = post(client, source, body)
    assert again.json() == {"created": 0, "already_present": 1, "near_duplicates": 0, "ids": []}
    item = FeedbackItem.objects.get()
    assert (item.source, item.location, item.rating) == ("webhook", store, 5)


def test_a_list_with_one_bad_item_stores_nothing_and_names_it(client, source):
    body = json.dumps([ITEM, {**ITEM, "external_id": "h2", "occurred_at": "never"}]).encode()
    response = post(client, source, body)
    assert response.status_code == 400
    assert response.json()["field"] == "items[1].occurred_at"
    assert not FeedbackItem.objects.exists()


def test_bad_signature_is_401_and_logged(client, source, caplog):
    body = json.dumps(ITEM).encode()
    with caplog.at_level(logging.WARNING, logger="opencx.feedback.webhooks"):
        response = post(client, source, body, secret="not-the-secret")
    assert response.status_code == 401
    assert "bad signature" in caplog.text
    assert post(client, source, body, headers={}).status_code == 401
    stale = signed_headers(secret=source.secret, body=body, timestamp=int(time.time()) - 3600)
    assert post(client, source, body, headers=stale).status_code == 401
    assert not FeedbackItem.objects.exists()


def test_oversized_and_malformed_bodies(client, source):
    big = b'{"text": "' + b"x" * MAX_BODY + b'"}'
    assert post(client, source, big).status_code == 413
    response = post(client, source, b"{not json")
    assert response.status_code == 400 and response.json()["field"] == "body"
    assert post(client, source, b"[]").json()["field"] == "items"


def test_unknown_or_inactive_source_is_404(client, source):
    source.is_active = False
    source.save()
    assert post(client, source, b"{}").status_code == 404
