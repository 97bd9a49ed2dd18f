"""Fixed-window request limits kept in the cache (exact across processes with REDIS_URL;
per process with the default in-memory cache)."""

import hashlib
import time

from django.core.cache import cache

_clock = time.time  # a seam: tests hold the window still


def allow(scope: str, key: str, *, limit: int, window: int = 60) -> bool:
    """Count one hit for `key` in this window; False once more than `limit` hits were counted.

    A limit of 0 switches the check off (load tests, trusted networks).
    """
    if limit <= 0:
        return True
    digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    cache_key = f"ratelimit:{scope}:{digest}:{int(_clock() // window)}"
    if cache.add(cache_key, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def client_ip(request) -> str:
    """The peer address; behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn's
    --forwarded-allow-ips) rather than trusting a client-supplied header here."""
    return request.META.get("REMOTE_ADDR", "")
