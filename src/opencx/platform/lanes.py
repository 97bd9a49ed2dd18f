"""Lanes: a cap on how many requests of one kind a web worker process serves at once.

Other systems send customers' messages (the inbox's API channel, the providers' webhooks) as
fast as they like, on as many connections as they like. Unbounded, a burst of them takes every
thread of every worker, and the people working the inbox wait behind it: on a busy machine
their queue page slowed three-fold (bench/inbox_load.py). In its lane, a message waits for the
one before it; the people's pages share the CPU with one message at a time per worker instead
of with all of them. A message that cannot get a lane within the wait bound is refused with
503 and Retry-After; the providers send again, and delivery is idempotent on their message id,
so nothing is lost or stored twice.

Lanes are per process (a gunicorn worker), so the whole server takes workers x lanes inbound
messages at once. `threading.BoundedSemaphore`: a worker that dies takes its lanes with it.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from .errors import Busy


class Lanes:
    def __init__(self, what: str, size: int, wait_seconds: float) -> None:
        if size < 1:
            raise ValueError(f"{what}: lanes must be at least 1, not {size}.")
        self.what, self.size, self.wait_seconds = what, size, wait_seconds
        self._free = threading.BoundedSemaphore(size)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Run the block in a lane, waiting up to `wait_seconds` for one; else raise Busy."""
        if not self._free.acquire(timeout=self.wait_seconds):
            raise Busy(
                f"The server is busy storing other {self.what}: send this again in a moment.",
                retry_after=1,
            )
        try:
            yield
        finally:
            self._free.release()


_inbound: Lanes | None = None
_made = threading.Lock()


def inbound_lanes() -> Lanes:
    """The lanes for customers' messages from other systems (INBOUND_LANES per worker)."""
    global _inbound
    if _inbound is None:
        with _made:
            if _inbound is None:
                _inbound = Lanes(
                    "inbound messages", settings.INBOUND_LANES, settings.INBOUND_WAIT_SECONDS
                )
    return _inbound
