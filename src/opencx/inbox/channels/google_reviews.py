"""Google Business Profile reviews of one listing: pushed notifications in, replies posted back.

In: Google publishes review notifications (`NEW_REVIEW`, `UPDATED_REVIEW`) to a Cloud Pub/Sub
topic of the account; a push subscription POSTs each to the inbox's address as a JSON envelope
`{"message": {"data": <base64 JSON>, "messageId", "publishTime"}, "subscription"}` where the
data is `{"type": "NEW_REVIEW", "review": "accounts/{a}/locations/{l}/reviews/{r}",
"location": "accounts/{a}/locations/{l}"}`. The notification carries only the review's name,
so we read the review itself (`GET {api}/{review}`: reviewer, star rating, comment, times) with
the inbox's access token before storing anything; if Google cannot be reached we answer 502 and
Pub/Sub delivers again later.

Authenticating the push: Pub/Sub can attach an OIDC token signed by Google, but checking it
needs Google's public keys (fetched over the internet), which an offline server cannot do.
We use the alternative Google documents for push endpoints instead: a secret in the endpoint's
address (`?token=<push secret>`, compared in constant time; the address travels inside TLS).
A relay that forwards the notifications may also sign the body: when
`X-OpenCX-Signature: sha256=<hex HMAC-SHA256(push secret, raw body)>` is present it must match.

Each state of a review is stored once (its id and update time), as a message of kind `review`
with the star rating in its text and in `headers`; an updated review adds a message to the same
conversation (reopening it). Reviews are not copied to the feedback store: it has its own
review importers, and a review read twice would count twice in the scores.

Out: a reply is the listing's public answer to the review: `PUT {api}/{review}/reply` with
`{"comment": ...}` (a second reply replaces the first, as on Google).
"""

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from opencx.contacts.models import Identity
from opencx.contacts.services import contact_find_or_create_by_identity
from opencx.inbox import services
from opencx.inbox.models import Conversation, GoogleReviewsChannel, Inbox, Message
from opencx.surveys.flows import public_url

from . import ChannelAdapter, DeliveryError
from .hooks import (
    PayloadError,
    b64decode_strict,
    call_json,
    hmac_hex_matches,
    join_url,
    provider_error,
    secret_matches,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OpenCX-Signature"
REVIEW_TYPES = {"NEW_REVIEW", "UPDATED_REVIEW"}
REVIEW_NAME = re.compile(
    r"accounts/([0-9A-Za-z_-]{1,64})/locations/([0-9A-Za-z_-]{1,64})/reviews/([0-9A-Za-z_-]{1,200})"
)
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
MAX_NOTIFICATION = 16 * 1024


class ReviewUnavailable(Exception):
    """Google did not give us the review now (unreachable, or an error): try again later."""


@dataclass(frozen=True)
class Notification:
    type: str
    review_name: str  # accounts/{a}/locations/{l}/reviews/{r}; "" when not a review
    message_id: str


@dataclass(frozen=True)
class Review:
    name: str
    review_id: str
    reviewer: str
    stars: int | None
    comment: str
    updated_at: datetime | None
    update_time: str  # as Google wrote it: part of the review state's id


def push_authorised(config: GoogleReviewsChannel, token: str, body: bytes, signature: str) -> str:
    """'' when the push carries the inbox's secret (and a valid signature, if it has one);
    else why not."""
    if not secret_matches(config.push_secret, token):
        return "missing or wrong token"
    if signature:
        scheme, _, value = signature.partition("=")
        if scheme != "sha256" or not hmac_hex_matches(
            secret=config.push_secret, body=body, signature=value
        ):
            return "bad signature"
    return ""


def parse_push(payload) -> Notification:
    """The notification inside a Pub/Sub push envelope; PayloadError if malformed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
        raise PayloadError('Expected a Pub/Sub push envelope with "message".', field="message")
    message = payload["message"]
    data = message.get("data")
    if not isinstance(data, str) or not data or len(data) > MAX_NOTIFICATION:
        raise PayloadError("Expected base64 data.", field="message.data")
    try:
        notification = json.loads(b64decode_strict(data, field="message.data"))
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("The data is not JSON.", field="message.data") from None
    if not isinstance(notification, dict):
        raise PayloadError("Expected an object.", field="message.data")
    kind = notification.get("type")
    if not isinstance(kind, str) or not kind:
        raise PayloadError("The notification has no type.", field="message.data.type")
    message_id = message.get("messageId") or message.get("message_id") or ""
    if kind not in REVIEW_TYPES:
        return Notification(type=kind[:40], review_name="", message_id=str(message_id)[:100])
    name = notification.get("review")
    if not isinstance(name, str) or not REVIEW_NAME.fullmatch(name):
        raise PayloadError("Expected a review name.", field="message.data.review")
    return Notification(type=kind, review_name=name, message_id=str(message_id)[:100])


def is_ours(config: GoogleReviewsChannel, review_name: str) -> bool:
    """Whether the review is of this inbox's listing (the account's topic carries them all)."""
    match = REVIEW_NAME.fullmatch(review_name)
    return bool(match) and match.group(1, 2) == (config.account_id, config.listing_id)


def _moment(value: str) -> datetime | None:
    try:
        moment = parse_datetime(value) if value else None
    except ValueError:
        moment = None
    if value and moment is None:
        raise PayloadError("Expected an RFC 3339 time.", field="review.updateTime")
    return moment


def parse_review(payload, *, name: str) -> Review:
    """A review resource as Google's API returns it; PayloadError if it is not one."""
    if not isinstance(payload, dict):
        raise PayloadError("Expected a review.", field="review")
    reviewer = payload.get("reviewer") or {}
    if not isinstance(reviewer, dict):
        raise PayloadError("Expected an object.", field="review.reviewer")
    display = reviewer.get("displayName") or ""
    if reviewer.get("isAnonymous") or not isinstance(display, str):
        display = ""
    rating = payload.get("starRating")
    if rating is not None and rating not in STARS and rating != "STAR_RATING_UNSPECIFIED":
        raise PayloadError("Unknown star rating.", field="review.starRating")
    comment = payload.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > services.MAX_BODY - 100:
        raise PayloadError("Expected text.", field="review.comment")
    update_time = payload.get("updateTime") or payload.get("createTime") or ""
    if not isinstance(update_time, str) or len(update_time) > 40:
        raise PayloadError("Expected a time.", field="review.updateTime")
    review_id = payload.get("reviewId") or name.rpartition("/")[2]
    if not isinstance(review_id, str) or not review_id:
        raise PayloadError("Expected an id.", field="review.reviewId")
    return Review(
        name=name,
        review_id=review_id[:200],
        reviewer=display.strip()[:200],
        stars=STARS.get(rating or ""),
        comment=comment.strip(),
        updated_at=_moment(update_time),
        update_time=update_time,
    )


def fetch_review(config: GoogleReviewsChannel, name: str) -> Review:
    """Read the review a notification names from Google's API."""
    try:
        answer = call_json(
            "GET",
            join_url(config.api_base_url, name),
            token=config.access_token,
            what="Google's Business Profile API",
        )
    except DeliveryError as error:
        raise ReviewUnavailable(str(error)) from None
    if answer.status != 200:
        raise ReviewUnavailable(provider_error(answer, "Google's Business Profile API"))
    return parse_review(answer.payload, name=name)


def _text(review: Review) -> str:
    rating = (
        f"{'★' * review.stars}{'☆' * (5 - review.stars)} {review.stars}/5"
        if review.stars
        else "No rating"
    )
    return f"{rating}\n\n{review.comment}" if review.comment else rating


def store_review(inbox: Inbox, review: Review) -> services.Received:
    """Store one state of a review (once); an updated review joins the review's conversation
    and opens it again."""
    # Google gives reviewers no stable id: each review is its own customer.
    contact = contact_find_or_create_by_identity(
        brand=inbox.brand,
        kind=Identity.Kind.EXTERNAL,
        value=f"google-review:{review.review_id}",
        name=review.reviewer,
        home_location=inbox.location,
    )
    conversation = (
        Conversation.objects.filter(inbox=inbox, contact=contact)
        .order_by("-created_at", "-pk")
        .first()
    )
    return services.message_receive(
        inbox=inbox,
        provider_message_id=f"{review.review_id}@{review.update_time}"[:255],
        body=_text(review),
        contact=contact,
        name=review.reviewer,
        conversation=conversation,
        sent_at=review.updated_at,
        headers={"review": review.name, "stars": review.stars, "reviewer": review.reviewer},
        kind=Message.Kind.REVIEW,
        attachments=[{"name": "rating", "content_type": "rating", "stars": review.stars}]
        if review.stars
        else [],
    )


def push_url(inbox: Inbox) -> str:
    """The push endpoint to give the Pub/Sub subscription (carries the secret: keep it private)."""
    token = inbox.google_reviews.push_secret
    return public_url(reverse("inbox_hooks:google-reviews", args=[inbox.pk])) + f"?token={token}"


class GoogleReviewsAdapter(ChannelAdapter):
    kind = "google_reviews"

    def send(self, message: Message) -> str:
        config: GoogleReviewsChannel = self.inbox.google_reviews
        review = (
            Message.objects.filter(
                conversation_id=message.conversation_id,
                direction=Message.Direction.INCOMING,
                kind=Message.Kind.REVIEW,
            )
            .order_by("-created_at", "-pk")
            .values_list("headers", flat=True)
            .first()
        )
        name = (review or {}).get("review", "") if isinstance(review, dict) else ""
        if not name or not is_ours(config, name):
            raise DeliveryError("There is no review of this listing here to answer.")
        answer = call_json(
            "PUT",
            join_url(config.api_base_url, name, "reply"),
            token=config.access_token,
            body={"comment": message.body},
            what="Google's Business Profile API",
        )
        if not 200 <= answer.status < 300:
            raise DeliveryError(provider_error(answer, "Google's Business Profile API"))
        self.sent_headers = {"review": name}
        updated = answer.payload.get("updateTime") or f"ocx-{message.pk}"
        return f"{name}/reply@{updated}"[:255]
