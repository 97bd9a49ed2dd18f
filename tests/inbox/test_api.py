"""The API channel: other systems write conversations in with an inbox's bearer token."""

import json
import time

import pytest

from opencx.inbox import selectors, services
from opencx.inbox.models import Conversation, Message
from opencx.platform import lanes, memo
from opencx.platform.lanes import Lanes
from opencx.platform.services import api_token_create

pytestmark = pytest.mark.django_db
URL = "/api/v1/inbox-api/conversations"


def _post(client, token, url, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        url,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        **extra,
    )


def _get(client, token, url):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def _new(message_id="crm-1", **overrides):
    body = {
        "contact": {"email": "marta@example.test", "name": "Marta"},
        "subject": "Order 1042",
        "message": {"id": message_id, "body": "Where is it?"},
    }
    body.update(overrides)
    return body


def test_a_system_starts_a_conversation_and_resending_stores_nothing_new(client, api_channel):
    inbox, token = api_channel
    created = _post(client, token, URL, _new())
    assert created.status_code == 201, created.content
    answer = created.json()
    conversation = Conversation.objects.get(pk=answer["id"])
    assert conversation.inbox == inbox and conversation.subject == "Order 1042"
    assert answer["status"] == "open"
    assert answer["message"]["client_id"] == "crm-1" and answer["message"]["direction"] == "in"

    again = _post(client, token, URL, _new())
    assert again.status_code == 200 and again.json() == answer
    assert Message.objects.count() == 1


def test_next_messages_replies_and_listing(client, api_channel, owner_actor):
    inbox, token = api_channel
    conversation_id = _post(client, token, URL, _new()).json()["id"]
    url = f"{URL}/{conversation_id}/messages"
    second = _post(client, token, url, {"id": "crm-2", "body": "Hello?"})
    assert second.status_code == 201 and second.json()["conversation_id"] == conversation_id
    assert _post(client, token, url, {"id": "crm-2", "body": "Hello?"}).status_code == 200
    conversation = Conversation.objects.get(pk=conversation_id)
    services.message_send(actor=owner_actor, conversation=conversation, body="Tomorrow")
    services.message_send(actor=owner_actor, conversation=conversation, body="vip", private=True)

    listed = _get(client, token, url)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [m["body"] for m in items] == ["Where is it?", "Hello?", "Tomorrow"]
    assert items[-1]["direction"] == "out" and items[-1]["delivery_status"] == "pending"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, None),
        ([], 422, None),
        ({"contact": {}, "message": {"id": "x", "body": "hi"}}, 400, "email"),
        ({**_new(), "message": {"id": "x", "body": ""}}, 422, "message.body"),
        ({**_new(), "message": {"id": "", "body": "hi"}}, 422, "message.id"),
        ({**_new(), "message": {"id": "x", "body": "x" * (services.MAX_BODY + 1)}}, 422, None),
        ({**_new(), "message": {"id": "x", "body": "   "}}, 400, "body"),
        ({**_new(), "message": {"id": "x", "body": "hi", "sent_at": "yesterday"}}, 422, None),
        ({**_new(), "contact": {"email": "nobody"}}, 400, "email"),
    ],
)
def test_malformed_payloads_get_a_clear_4xx_and_store_nothing(
    client, api_channel, body, status, field
):
    _, token = api_channel
    answer = _post(client, token, URL, body)
    assert answer.status_code == status, answer.content
    error = answer.json()
    assert error["message"] and error["code"]
    if field:
        assert error["field"] == field
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_an_oversized_body_is_refused_before_it_is_read(client, api_channel):
    _, token = api_channel
    huge = json.dumps(_new(body="x")).replace('"x"', json.dumps("x" * 300_000))
    answer = _post(client, token, URL, huge)
    assert answer.status_code == 413 and answer.json()["code"] == "too_large"
    assert not Message.objects.exists()


def test_tokens_open_only_their_own_inbox(client, api_channel, owner_actor, owner, monkeypatch):
    inbox, token = api_channel
    other = services.inbox_create_api(actor=owner_actor, name="Other")
    conversation_id = _post(client, token, URL, _new()).json()["id"]
    url = f"{URL}/{conversation_id}/messages"
    assert _get(client, other.token, url).status_code == 404
    refused = _post(client, other.token, url, {"id": "y", "body": "hi"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    personal = api_token_create(user=owner, name="me").secret
    assert _get(client, personal, url).status_code == 401
    assert _get(client, "ocxin_forged", url).status_code == 401
    assert client.get(url).status_code == 401
    inbox.is_active = False
    inbox.save()
    # Each process remembers a token for API_TOKEN_TTL seconds; then it is refused.
    later = time.monotonic() + selectors.API_TOKEN_TTL + 1
    monkeypatch.setattr(memo.time, "monotonic", lambda: later)
    assert _get(client, token, url).status_code == 401


# --- Setting up inboxes ------------------------------------------------------------------------


def test_an_admin_sets_up_inboxes_and_gets_the_token_once(client, owner, store, brand):
    client.force_login(owner)
    base = f"/api/v1/brands/{brand.slug}/inboxes"
    created = client.post(
        f"{base}/api",
        data={"name": "CRM", "location_id": store.pk, "webhook_url": "https://crm.test/hook"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    answer = created.json()
    assert answer["kind"] == "api" and answer["location_id"] == store.pk
    assert answer["token"].startswith("ocxin_") and answer["webhook_secret"]
    email = client.post(
        f"{base}/email",
        data={
            "name": "Support",
            "address": "help@bottega.test",
            "imap_host": "imap.bottega.test",
            "imap_user": "help",
            "smtp_host": "smtp.bottega.test",
        },
        content_type="application/json",
    )
    assert email.status_code == 201 and email.json()["location_id"] is None
    listed = client.get(base).json()
    assert [i["name"] for i in listed] == ["CRM", "Support"]
    assert "token" not in listed[0]
    # The token works on the channel routes.
    assert _post(client, answer["token"], URL, _new()).status_code == 201


def test_inbox_set_up_refuses_bad_settings(client, owner, brand):
    client.force_login(owner)
    bad = client.post(
        f"/api/v1/brands/{brand.slug}/inboxes/email",
        data={
            "name": "Support",
            "address": "help",
            "imap_host": "x",
            "imap_user": "x",
            "smtp_host": "x",
        },
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "address"


def test_with_every_inbound_lane_taken_a_message_is_refused_with_503_then_stored_once(
    client, api_channel, monkeypatch
):
    inbox, token = api_channel
    taken = Lanes("inbound messages", size=1, wait_seconds=0.01, max_waiting=1)
    monkeypatch.setattr(lanes, "_inbound", taken)
    with taken.hold():  # another message is being stored in the only lane
        refused = _post(client, token, URL, _new())
    assert refused.status_code == 503 and refused["Retry-After"] == "1"
    assert refused.json()["code"] == "busy"
    assert not Message.objects.exists() and not Conversation.objects.exists()

    sent_again = _post(client, token, URL, _new())
    assert sent_again.status_code == 201
    assert Message.objects.get().provider_message_id == "crm-1"
