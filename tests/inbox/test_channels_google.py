"""Google reviews: recorded Pub/Sub pushes replayed against the inbox's push endpoint, the
review read from (and the reply put to) a local stand-in for the Business Profile API."""

import base64
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

from opencx.inbox import channel_webhooks, flows, services
from opencx.inbox.channels import google_reviews
from opencx.inbox.channels.hooks import PayloadError
from opencx.inbox.models import Conversation, Message

from .provider_server import ProviderServer

pytestmark = pytest.mark.django_db
PAYLOADS = Path(__file__).parent / "payloads"
ACCOUNT, LISTING = "112233445566778899", "9988776655443322110"
REVIEW = f"accounts/{ACCOUNT}/locations/{LISTING}/reviews/AbFvOqmX0oGp3Nq2KeviewX1"


def _payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
def provider():
    with ProviderServer() as server:
        server.answer("GET", f"/v4/{REVIEW}", _payload("google_review.json"))
        yield server


@pytest.fixture
def reviews_inbox(owner_actor, store, provider):
    return services.inbox_create_google_reviews(
        actor=owner_actor,
        name="Cardiff reviews",
        location=store,
        account_id=ACCOUNT,
        listing_id=LISTING,
        access_token="ya29.google-token",
        api_base_url=provider.url + "/v4",
    )


def _push(client, inbox, payload, *, token: str | None = None, signature: str = ""):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    token = inbox.google_reviews.push_secret if token is None else token
    path = reverse("inbox_hooks:google-reviews", args=[inbox.pk]) + f"?token={token}"
    headers = {"X-OpenCX-Signature": signature} if signature else {}
    return client.post(path, data=body, content_type="application/json", headers=headers)


def _envelope(notification: dict) -> dict:
    envelope = _payload("google_pubsub_new_review.json")
    envelope["message"]["data"] = base64.b64encode(json.dumps(notification).encode()).decode()
    return envelope


def test_a_new_review_is_read_and_stored_once(client, reviews_inbox, provider):
    push = _payload("google_pubsub_new_review.json")
    assert _push(client, reviews_inbox, push).status_code == 204
    assert _push(client, reviews_inbox, push).status_code == 204  # Pub/Sub delivers again

    review = Message.objects.get()
    assert review.kind == "review" and review.body.startswith("★★☆☆☆ 2/5")
    assert "Waited 20 minutes" in review.body
    assert review.headers["stars"] == 2 and review.headers["review"] == REVIEW
    assert review.attachments == [{"name": "rating", "content_type": "rating", "stars": 2}]
    assert review.conversation.contact.name == "Rhys Evans"
    fetched = provider.requests[0]
    assert (
        fetched.method == "GET" and fetched.headers["Authorization"] == "Bearer ya29.google-token"
    )


def test_an_updated_review_reopens_its_conversation(client, reviews_inbox, provider, owner_actor):
    _push(client, reviews_inbox, _payload("google_pubsub_new_review.json"))
    conversation = Conversation.objects.get()
    services.conversation_transition(actor=owner_actor, conversation=conversation, to="resolved")

    updated = _payload("google_review.json")
    updated.update(starRating="FOUR", comment="They called me back. Better.")
    updated["updateTime"] = "2026-04-02T09:00:00Z"
    provider.answer("GET", f"/v4/{REVIEW}", updated)
    notification = {"type": "UPDATED_REVIEW", "review": REVIEW}
    assert _push(client, reviews_inbox, _envelope(notification)).status_code == 204

    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.messages.count() == 2
    assert conversation.messages.last().body.startswith("★★★★☆ 4/5")


def test_a_reply_is_put_on_the_review(client, reviews_inbox, provider, owner_actor):
    provider.answer(
        "PUT",
        f"/v4/{REVIEW}/reply",
        {"comment": "Sorry, Rhys.", "updateTime": "2026-04-01T13:00:00Z"},
    )
    _push(client, reviews_inbox, _payload("google_pubsub_new_review.json"))
    reply = services.message_send(
        actor=owner_actor, conversation=Conversation.objects.get(), body="Sorry, Rhys."
    )
    assert flows.message_deliver(message_id=reply.pk)
    sent = provider.requests[-1]
    assert sent.method == "PUT" and sent.json() == {"comment": "Sorry, Rhys."}
    assert sent.headers["Authorization"] == "Bearer ya29.google-token"
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert reply.provider_message_id == f"{REVIEW}/reply@2026-04-01T13:00:00Z"


@pytest.mark.parametrize("token", ["", "wrong-secret"])
def test_a_push_without_the_secret_is_refused_and_logged(
    client, reviews_inbox, provider, caplog, token
):
    with caplog.at_level(logging.WARNING, logger="opencx.inbox.webhooks"):
        response = _push(
            client, reviews_inbox, _payload("google_pubsub_new_review.json"), token=token
        )
    assert response.status_code == 403
    assert not Message.objects.exists() and not provider.requests
    assert f"Inbox {reviews_inbox.pk} (google_reviews) webhook refused" in caplog.text


def test_a_relay_signature_must_match_when_given(client, reviews_inbox):
    body = json.dumps(_payload("google_pubsub_new_review.json")).encode()
    secret = reviews_inbox.google_reviews.push_secret.encode()
    good = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    assert _push(client, reviews_inbox, body, signature="sha256=" + "0" * 64).status_code == 403
    assert _push(client, reviews_inbox, body, signature=good).status_code == 204
    assert Message.objects.count() == 1


def test_malformed_and_oversized_pushes_get_a_clear_4xx(client, reviews_inbox):
    push = _payload("google_pubsub_new_review.json")
    bad_data = copy.deepcopy(push)
    bad_data["message"]["data"] = "%%%not base64%%%"
    response = _push(client, reviews_inbox, bad_data)
    assert response.status_code == 400 and response.json()["field"] == "message.data"

    not_a_review = _envelope({"type": "NEW_REVIEW", "review": "../../admin"})
    assert _push(client, reviews_inbox, not_a_review).status_code == 400
    assert _push(client, reviews_inbox, b"{").status_code == 400

    huge = b'{"message": {"data": "' + b"A" * channel_webhooks.MAX_GOOGLE + b'"}}'
    assert _push(client, reviews_inbox, huge).status_code == 413
    assert not Message.objects.exists()


def test_other_listings_and_other_notifications_are_acknowledged_not_stored(
    client, reviews_inbox, provider
):
    other = REVIEW.replace(LISTING, "1234")
    assert (
        _push(client, reviews_inbox, _envelope({"type": "NEW_REVIEW", "review": other})).status_code
        == 204
    )
    question = _envelope({"type": "NEW_QUESTION", "question": "accounts/1/locations/2/questions/3"})
    assert _push(client, reviews_inbox, question).status_code == 204
    assert not Message.objects.exists() and not provider.requests


def test_when_google_does_not_answer_nothing_is_stored_and_pubsub_retries(
    client, reviews_inbox, provider
):
    provider.answers.clear()  # the review is not found (404)
    response = _push(client, reviews_inbox, _payload("google_pubsub_new_review.json"))
    assert response.status_code == 502
    assert not Message.objects.exists()


def test_creating_a_google_reviews_inbox_through_the_api(client, brand, owner, settings):
    from opencx.platform.services import api_token_create

    settings.OPENCX_PUBLIC_HOST = "https://cx.bottega.test"
    token = api_token_create(user=owner, name="t").secret
    response = client.post(
        f"/api/v1/brands/{brand.slug}/inboxes/google-reviews",
        data={"name": "Reviews", "account_id": ACCOUNT, "listing_id": LISTING},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    secret = created["webhook_url"].rpartition("token=")[2]
    assert created["webhook_url"].startswith(
        f"https://cx.bottega.test/hooks/inbox/{created['id']}/google-reviews/?token="
    )
    assert len(secret) >= 32


# --- The parsers on hostile input -------------------------------------------------------------


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=100) | st.integers(), max_size=5))
def test_parse_push_either_parses_or_says_why(message):
    try:
        google_reviews.parse_push({"message": message})
    except PayloadError as error:
        assert error.message


@given(
    st.fixed_dictionaries(
        {
            "reviewer": st.none() | st.dictionaries(st.text(max_size=12), st.text(max_size=20)),
            "starRating": st.none() | st.sampled_from(["ONE", "FIVE", "SIX", ""]) | st.integers(),
            "comment": st.none() | st.text(max_size=50) | st.integers(),
            "updateTime": st.none() | st.text(max_size=45),
            "reviewId": st.none() | st.text(max_size=10),
        }
    )
)
def test_parse_review_either_parses_or_says_why(payload):
    try:
        review = google_reviews.parse_review(payload, name=REVIEW)
    except PayloadError as error:
        assert error.message
    else:
        assert review.stars in {None, 1, 5} and review.review_id
