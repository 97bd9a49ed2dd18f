"""`Recent`: what a process remembers for a few seconds instead of asking the database on every
request (a busy QR code's survey, a busy API token's inbox). Per process, bounded, and
thread-safe enough for its use: a lost race only costs one more database read."""

import time
from typing import Generic, TypeVar

V = TypeVar("V")


class Recent(Generic[V]):
    """Values by key for `seconds` each; at `size` entries it starts again empty."""

    def __init__(self, *, seconds: float, size: int) -> None:
        self.seconds, self.size = seconds, size
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, value: V) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.seconds, value)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
