"""Facebook and Instagram: recorded webhook payloads replayed against the inbox's address, and
replies sent to a local stand-in for Meta's Graph API."""

import copy
import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from opencx.contacts.models import Identity
from opencx.inbox import channel_webhooks, flows, services
from opencx.inbox.channels import meta
from opencx.inbox.channels.hooks import PayloadError
from opencx.inbox.models import Conversation, Message

from .provider_server import ProviderServer

pytestmark = pytest.mark.django_db
PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "meta-app-secret-0123456789"
PAGE_ID = "104512345678901"
IG_ID = "17841400000000001"


def _payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
def provider():
    with ProviderServer() as server:
        yield server


def _inbox(actor, location, provider, platform, page_id):
    return services.inbox_create_meta(
        actor=actor,
        name=f"{platform} page",
        location=location,
        platform=platform,
        page_id=page_id,
        app_secret=APP_SECRET,
        page_access_token="page-token-abc",
        verify_token="verify-me",
        graph_base_url=provider.url + "/v19.0",
    )


@pytest.fixture
def facebook(owner_actor, store, provider):
    return _inbox(owner_actor, store, provider, "facebook", PAGE_ID)


@pytest.fixture
def instagram(owner_actor, store, provider):
    return _inbox(owner_actor, store, provider, "instagram", IG_ID)


def _sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(client, inbox, payload, *, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    signature = _sign(body) if signature is None else signature
    if signature:
        headers["X-Hub-Signature-256"] = signature
    path = reverse("inbox_hooks:meta", args=[inbox.pk, inbox.kind])
    return client.post(path, data=body, content_type="application/json", headers=headers)


def test_subscription_check_echoes_the_challenge_only_for_our_token(client, facebook):
    path = reverse("inbox_hooks:meta", args=[facebook.pk, "facebook"])
    ok = client.get(path, {"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                           "hub.challenge": "1158201444"})  # fmt: skip
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(path, {"hub.mode": "subscribe", "hub.verify_token": "guess",
                              "hub.challenge": "1158201444"})  # fmt: skip
    assert wrong.status_code == 403
    # The Instagram address of a Facebook inbox does not exist.
    assert (
        client.get(reverse("inbox_hooks:meta", args=[facebook.pk, "instagram"])).status_code == 404
    )


def test_messenger_messages_are_stored_once_echoes_and_receipts_ignored(client, facebook):
    payload = _payload("facebook_messages.json")
    assert _post(client, facebook, payload).status_code == 200
    assert _post(client, facebook, payload).status_code == 200  # Meta delivers again

    first, second = Message.objects.order_by("created_at", "pk")
    assert first.body == "Hello! Do you have the blue jacket in size M?"
    assert first.provider_message_id.startswith("m_Xq1f") and first.sent_at.year == 2026
    assert second.attachments[0]["content_type"] == "image"
    assert first.conversation == second.conversation
    identity = first.conversation.contact.identities.get()
    assert (identity.kind, identity.value) == (Identity.Kind.FACEBOOK, "6245873912345678")


def test_bad_or_missing_signatures_are_refused_and_logged(client, facebook, caplog):
    payload = _payload("facebook_messages.json")
    body = json.dumps(payload).encode()
    with caplog.at_level(logging.WARNING, logger="opencx.inbox.webhooks"):
        for signature in ("", _sign(body, "another-secret"), "sha1=abc", "sha256=" + "0" * 64):
            response = _post(client, facebook, body, signature=signature)
            assert response.status_code == 403, signature
    assert not Message.objects.exists()
    assert caplog.text.count(f"Inbox {facebook.pk} (facebook) webhook refused") == 4


def test_a_payload_with_one_malformed_message_stores_none(client, facebook):
    payload = _payload("facebook_messages.json")
    broken = copy.deepcopy(payload)
    del broken["entry"][0]["messaging"][1]["message"]["mid"]
    response = _post(client, facebook, broken)
    assert response.status_code == 400
    assert response.json()["field"] == "entry[0].messaging[1].message.mid"
    assert not Message.objects.exists()

    for body in (b"{not json", b"[]", json.dumps({"object": "instagram", "entry": []}).encode()):
        assert _post(client, facebook, body).status_code == 400, body


def test_oversized_payloads_get_413(client, facebook):
    body = b'{"object": "page", "entry": [], "pad": "' + b"x" * channel_webhooks.MAX_META + b'"}'
    response = _post(client, facebook, body)
    assert response.status_code == 413
    assert not Message.objects.exists()


def test_a_facebook_comment_is_stored_and_answered_in_public(
    client, facebook, provider, owner_actor
):
    provider.answer(
        "POST", "/v19.0/987654321098765_1122334455667788/comments", {"id": "987654321098765_99"}
    )
    assert _post(client, facebook, _payload("facebook_feed_comment.json")).status_code == 200
    comment = Message.objects.get()  # the reaction is not a message
    assert comment.kind == "comment" and comment.headers["post_id"].endswith("_987654321098765")
    assert comment.conversation.contact.name == "Marta Bianchi"

    reply = services.message_send(
        actor=owner_actor, conversation=comment.conversation, body="Yes, from Friday!"
    )
    assert flows.message_deliver(message_id=reply.pk)
    [sent] = provider.requests
    assert sent.method == "POST" and sent.json() == {"message": "Yes, from Friday!"}
    assert sent.headers["Authorization"] == "Bearer page-token-abc"
    assert "access_token" not in sent.path
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.provider_message_id == "987654321098765_99"

    # Our own reply comes back through the feed: not stored as the customer's.
    echo = _payload("facebook_feed_comment.json")
    value = echo["entry"][0]["changes"][0]["value"]
    value.update(comment_id="987654321098765_99", **{"from": {"id": PAGE_ID, "name": "Bottega"}})
    assert _post(client, facebook, echo).status_code == 200
    assert Message.objects.filter(direction="in").count() == 1


def test_a_private_reply_goes_through_the_send_api(client, facebook, provider, owner_actor):
    provider.answer(
        "POST", "/v19.0/me/messages", {"recipient_id": "6245873912345678", "message_id": "m_ours"}
    )
    _post(client, facebook, _payload("facebook_messages.json"))
    conversation = Conversation.objects.get()
    reply = services.message_send(actor=owner_actor, conversation=conversation, body="We do!")
    assert flows.message_deliver(message_id=reply.pk)
    [sent] = provider.requests
    assert sent.json() == {
        "recipient": {"id": "6245873912345678"},
        "messaging_type": "RESPONSE",
        "message": {"text": "We do!"},
    }
    reply.refresh_from_db()
    assert reply.provider_message_id == "m_ours"


def test_a_graph_api_refusal_is_recorded(client, facebook, provider, owner_actor):
    provider.answer(
        "POST",
        "/v19.0/me/messages",
        {"error": {"message": "(#10) This message is sent outside of allowed window.", "code": 10}},
        status=400,
    )
    _post(client, facebook, _payload("facebook_messages.json"))
    reply = services.message_send(
        actor=owner_actor, conversation=Conversation.objects.get(), body="Late answer"
    )
    assert not flows.message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "allowed window" in reply.delivery_error


def test_instagram_messages_and_comments(client, instagram, provider, owner_actor):
    provider.answer("POST", "/v19.0/17865799348089039/replies", {"id": "17870000000000001"})
    assert _post(client, instagram, _payload("instagram_messages.json")).status_code == 200
    assert _post(client, instagram, _payload("instagram_comments.json")).status_code == 200
    assert _post(client, instagram, _payload("instagram_comments.json")).status_code == 200
    dm, comment = Message.objects.order_by("pk")
    assert dm.body == "Hi, are you open on Sunday?" and dm.kind == "message"
    assert comment.kind == "comment" and comment.conversation.contact.name == "gwen.cardiff"
    assert comment.conversation.contact.identities.get().kind == Identity.Kind.INSTAGRAM

    reply = services.message_send(
        actor=owner_actor, conversation=comment.conversation, body="It is!"
    )
    assert flows.message_deliver(message_id=reply.pk)
    [sent] = provider.requests
    assert sent.path == "/v19.0/17865799348089039/replies"
    assert sent.json() == {"message": "It is!"}


def test_another_pages_events_are_not_stored_here(client, facebook):
    payload = _payload("facebook_messages.json")
    payload["entry"][0]["id"] = "999999999999999"
    assert _post(client, facebook, payload).status_code == 200
    assert not Message.objects.exists()


def test_creating_a_meta_inbox_through_the_api(client, brand, owner):
    from opencx.platform.services import api_token_create

    token = api_token_create(user=owner, name="t").secret
    body = {
        "name": "Facebook",
        "platform": "facebook",
        "page_id": PAGE_ID,
        "app_secret": APP_SECRET,
        "page_access_token": "tok",
    }
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/brands/{brand.slug}/inboxes/meta"
    response = client.post(url, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "facebook" and created["webhook_url"].endswith("/facebook/")
    assert len(created["verify_token"]) >= 24
    again = client.post(url, data=body, content_type="application/json", headers=headers)
    assert again.status_code == 409


# --- The parser on hostile input -------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
EVENT = st.fixed_dictionaries(
    {"sender": st.fixed_dictionaries({"id": JSON}), "message": JSON, "timestamp": JSON}
)
CHANGE = st.fixed_dictionaries(
    {"field": st.sampled_from(["feed", "comments", "mention"]), "value": JSON}
)
PAYLOAD = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["page", "instagram", 3]),
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from([PAGE_ID, "1", 5, None]),
                    "messaging": st.lists(EVENT, max_size=3) | JSON,
                    "changes": st.lists(CHANGE, max_size=3) | JSON,
                }
            ),
            max_size=3,
        )
        | JSON,
    }
)


class _Config:
    platform = "facebook"
    page_id = PAGE_ID
    inbox_id = 0


@given(PAYLOAD | JSON)
def test_parse_webhook_either_parses_or_says_where(payload):
    try:
        items = meta.parse_webhook(payload, config=_Config())
    except PayloadError as error:
        assert error.message
    else:
        for item in items:
            assert (
                item.provider_id and item.sender_id != PAGE_ID and (item.body or item.attachments)
            )
