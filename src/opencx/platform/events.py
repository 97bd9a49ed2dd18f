"""Explicit event registry: services emit, handlers run after the transaction commits.

No Django signals: a reader can find every consumer of an event by grepping its name.
"""

from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _handlers[event].append(handler)
        return handler

    return register


def emit(event: str, **payload) -> None:
    """Run the event's handlers once the surrounding transaction commits (at once if none)."""
    for handler in list(_handlers.get(event, ())):
        transaction.on_commit(lambda handler=handler: handler(**payload), robust=True)
