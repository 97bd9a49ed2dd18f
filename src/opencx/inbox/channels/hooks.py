"""What the webhook channels (SMS, Facebook/Instagram, Google reviews) share: the errors a
parser raises, constant-time HMAC checks, and a small JSON-over-HTTP client for replies.

The client takes the provider's base address from the channel's config table, so tests (and a
self-hosted provider) point it at another server; it never follows redirects with credentials.
"""

import base64
import binascii
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from . import DeliveryError

TIMEOUT_S = 10
MAX_ANSWER = 1024 * 1024  # bytes read from a provider's answer


class PayloadError(ValueError):
    """The payload is not in the provider's shape: answered 400, nothing stored."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def hmac_hex_matches(*, secret: str, body: bytes, signature: str, digest=hashlib.sha256) -> bool:
    """Whether `signature` is the hex HMAC of `body` keyed by `secret` (constant time)."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(
        expected.encode(), signature.strip().lower().encode("utf-8", "replace")
    )


def secret_matches(expected: str, given: str) -> bool:
    """Compare a shared secret in constant time; an empty secret never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def b64decode_strict(value: str, *, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        # Pub/Sub may send URL-safe base64; accept it, strictly, before giving up.
        try:
            return base64.urlsafe_b64decode(value.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise PayloadError("Not base64.", field=field) from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # an answer to read, not a hop to follow with our token


@dataclass(frozen=True)
class Answer:
    status: int
    payload: dict


def call_json(
    method: str,
    url: str,
    *,
    token: str = "",
    body: dict | None = None,
    what: str = "The provider",
) -> Answer:
    """Send `body` as JSON (Bearer `token`), read a JSON object back. DeliveryError when the
    provider cannot be reached; any HTTP status comes back in the answer for the caller to judge."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_S) as answer:
            status, raw = answer.status, answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read(MAX_ANSWER)
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"{what} could not be reached: {error}") from None
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = {}
    return Answer(status=status, payload=payload if isinstance(payload, dict) else {})


def provider_error(answer: Answer, what: str) -> str:
    """A one-line reason from a provider's error answer (Graph and Google share this shape)."""
    error = answer.payload.get("error")
    detail = ""
    if isinstance(error, dict):
        detail = str(error.get("message") or error.get("status") or "")
    elif isinstance(error, str):
        detail = error
    return f"{what} answered HTTP {answer.status}" + (f": {detail[:300]}" if detail else ".")


def join_url(base: str, *parts: str) -> str:
    """`base` followed by each part, each quoted as one path segment (slashes kept inside
    resource names Google returns, such as accounts/1/locations/2/reviews/x)."""
    quoted = [urllib.parse.quote(part, safe="/") for part in parts]
    return "/".join([base.rstrip("/"), *(q.strip("/") for q in quoted)])
