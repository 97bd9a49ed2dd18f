"""The signed endpoint other systems push feedback to: `POST /api/v1/feedback/webhooks/<key>`.

It sits outside the brand's API paths and takes no token or session: the key in the address
names the source (and so the brand), and the HMAC over the body proves the sender holds the
source's secret. Headers:

    X-OpenCX-Timestamp: 1740824100
    X-OpenCX-Signature: sha256=<hex HMAC-SHA256(secret, "1740824100." + raw body)>

A timestamp more than `REPLAY_WINDOW_S` from now is refused, so a captured request cannot be
replayed later (and replaying it within the window adds nothing: items are unique on their id).
"""

import hashlib
import hmac
import json
import logging
import time

from django.core.exceptions import RequestDataTooBig
from django.urls import reverse

from opencx.platform import ratelimit
from opencx.platform.errors import AppError, NotFound, Throttled, TooLarge, Unauthorized

from . import selectors, services
from .models import WebhookSource

logger = logging.getLogger("opencx.feedback.webhooks")

MAX_BODY = 1024 * 1024
REPLAY_WINDOW_S = 300
RATE_PER_MINUTE = 600
SIGNATURE_HEADER = "X-OpenCX-Signature"
TIMESTAMP_HEADER = "X-OpenCX-Timestamp"


def webhook_path(source: WebhookSource) -> str:
    return reverse("api:feedback-webhook", kwargs={"key": source.key})


def signature_of(*, secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, body: bytes, timestamp: int | None = None) -> dict:
    """The headers a sender adds (used by the tests and shown in the docs)."""
    moment = int(time.time() if timestamp is None else timestamp)
    return {
        TIMESTAMP_HEADER: str(moment),
        SIGNATURE_HEADER: signature_of(secret=secret, timestamp=moment, body=body),
    }


def _verify(source: WebhookSource, request, body: bytes) -> None:
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    peer = ratelimit.client_ip(request)
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        logger.warning("feedback webhook %s: no valid timestamp (from %s)", source.pk, peer)
        raise Unauthorized(f"Send {TIMESTAMP_HEADER} (unix seconds).", field=TIMESTAMP_HEADER)
    if abs(time.time() - int(timestamp)) > REPLAY_WINDOW_S:
        logger.warning("feedback webhook %s: stale timestamp (from %s)", source.pk, peer)
        raise Unauthorized(
            f"{TIMESTAMP_HEADER} is more than {REPLAY_WINDOW_S} s from now.", field=TIMESTAMP_HEADER
        )
    expected = signature_of(secret=source.secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        logger.warning("feedback webhook %s: bad signature (from %s)", source.pk, peer)
        raise Unauthorized("The signature does not match the body.", field=SIGNATURE_HEADER)


def receive(request, key: str) -> dict:
    """Check, parse and store one delivery; AppError (401, 400, 404, 413, 429) otherwise."""
    source = selectors.webhook_source_by_key(key=key)
    if source is None:
        raise NotFound("No such webhook.", field="key")
    if not ratelimit.allow("feedback-webhook", source.key, limit=RATE_PER_MINUTE):
        raise Throttled("Too many deliveries; slow down.")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise TooLarge(f"The body is over {MAX_BODY // 1024} KB.", field="body")
    try:
        body = request.body
    except RequestDataTooBig:
        raise TooLarge(f"The body is over {MAX_BODY // 1024} KB.", field="body") from None
    if len(body) > MAX_BODY:
        raise TooLarge(f"The body is over {MAX_BODY // 1024} KB.", field="body")
    _verify(source, request, body)
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise AppError(f"The body is not JSON ({error}).", field="body") from None
    records = payload if isinstance(payload, list) else [payload]
    delivery = services.webhook_receive(source=source, records=records)
    return {
        "created": len(delivery.created),
        "already_present": delivery.already_present,
        "near_duplicates": delivery.near_duplicates,
        "ids": delivery.created,
    }
