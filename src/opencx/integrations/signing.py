"""Signing webhook bodies, and checking a signature the way a receiver should.

The header is `OpenCX-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
Signing the time with the body lets a receiver refuse a replayed request: `verify_signature`
accepts a signature made within `tolerance_s` of now. This module imports nothing from Django,
so a receiver written in Python can copy it as is.
"""

import hashlib
import hmac
import time

HEADER = "OpenCX-Signature"
SCHEME = "v1"


def signature_of(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the `OpenCX-Signature` header for `body`, signed now (or at `timestamp`)."""
    moment = int(time.time() if timestamp is None else timestamp)
    return f"t={moment},{SCHEME}={signature_of(secret=secret, timestamp=moment, body=body)}"


def verify_signature(
    *, secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """Whether `header` signs exactly `body` with `secret`, made within `tolerance_s` seconds
    of `now`. Compares in constant time; any malformed header is simply False."""
    if not secret or not header:
        return False
    timestamp, candidates = None, []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = signature_of(secret=secret, timestamp=timestamp, body=body)
    # Check every candidate (no early exit), so timing tells nothing about which matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
    return matched
