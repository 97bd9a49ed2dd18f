"""Background tasks of the inbox (django-tasks): they take ids and are safe to run twice."""

from django_tasks import task

from . import flows


@task()
def deliver_message(message_id: int) -> bool:
    """Send one queued reply (a sent or failed one is left alone)."""
    return flows.message_deliver(message_id=message_id)


@task()
def auto_assign_conversation(conversation_id: int) -> int | None:
    """Give a new conversation to the available agent with the most room (or nobody)."""
    return flows.conversation_auto_assign(conversation_id=conversation_id)
