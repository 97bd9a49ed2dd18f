"""Lanes: a cap on how many requests of one kind a web worker process serves at once.

Other systems send customers' messages (the inbox's API channel, the providers' webhooks) as
fast as they like, on as many connections as they like. Unbounded, a burst of them takes every
thread of every worker, and the people working the inbox wait behind it: on a busy machine
their queue page slowed three-fold (bench/inbox_load.py). In its lane, a message waits for the
one before it; the people's pages share the CPU with one message at a time per worker instead
of with all of them. A waiting message holds a thread of the worker, so only so many may wait:
the rest of the threads stay free for people. A message that cannot wait, or cannot get a lane
within the wait bound, is refused with 503 and Retry-After; the providers send again, and
delivery is idempotent on their message id, so nothing is lost or stored twice.

Lanes are per process (a gunicorn worker), so the whole server takes workers x lanes inbound
messages at once. `threading.BoundedSemaphore`: a worker that dies takes its lanes with it.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from .errors import Busy


class Lanes:
    def __init__(self, what: str, size: int, wait_seconds: float, max_waiting: int) -> None:
        if size < 1:
            raise ValueError(f"{what}: lanes must be at least 1, not {size}.")
        if max_waiting < 0:
            raise ValueError(f"{what}: waiting must be at least 0, not {max_waiting}.")
        self.what, self.size, self.wait_seconds = what, size, wait_seconds
        self.max_waiting = max_waiting
        self._free = threading.BoundedSemaphore(size)
        self._waiting = 0
        self._counting = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Run the block in a lane. With none free, wait up to `wait_seconds` for one if fewer
        than `max_waiting` already wait; else raise Busy."""
        if not self._free.acquire(blocking=False):
            with self._counting:
                if self._waiting >= self.max_waiting:
                    raise self._busy()
                self._waiting += 1
            try:
                got = self._free.acquire(timeout=self.wait_seconds)
            finally:
                with self._counting:
                    self._waiting -= 1
            if not got:
                raise self._busy()
        try:
            yield
        finally:
            self._free.release()

    def _busy(self) -> Busy:
        return Busy(
            f"The server is busy storing other {self.what}: send this again in a moment.",
            retry_after=1,
        )


_inbound: Lanes | None = None
_made = threading.Lock()


def inbound_lanes() -> Lanes:
    """The lanes for customers' messages from other systems (INBOUND_* settings, per worker)."""
    global _inbound
    if _inbound is None:
        with _made:
            if _inbound is None:
                _inbound = Lanes(
                    "inbound messages",
                    size=settings.INBOUND_LANES,
                    wait_seconds=settings.INBOUND_WAIT_SECONDS,
                    max_waiting=settings.INBOUND_WAITING,
                )
    return _inbound
