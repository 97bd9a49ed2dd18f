"""Side effects of the inbox, run after commit: replies go out through their channel, new
conversations are assigned round-robin, mailboxes are read.

Each subscription only enqueues a task that takes ids; each task is safe to run twice (a reply
is claimed by a conditional UPDATE before it is handed to the channel: sent at most once).
"""

import logging

from opencx.platform.events import subscribe

from . import services
from .channels import DeliveryError, adapter_for
from .channels.email import DELIVERY_ERRORS, FetchResult
from .models import Conversation, Inbox, Message

logger = logging.getLogger(__name__)


@subscribe(services.MESSAGE_QUEUED)
def _deliver_when_queued(*, message_id: int) -> None:
    from .tasks import deliver_message  # tasks import this module

    deliver_message.enqueue(message_id)


def message_deliver(*, message_id: int) -> bool:
    """Send one pending reply through its inbox's channel; True if the channel took it."""
    if not services.message_claim_for_delivery(message_id=message_id):
        return False
    message = Message.objects.select_related(
        "conversation__brand", "conversation__contact", "inbox", "sender"
    ).get(pk=message_id)
    if message.inbox is None:
        services.message_delivered(message_id=message_id, error="No inbox to send through.")
        return False
    if not message.inbox.is_active:  # switched off after the reply was queued: nothing goes out
        services.message_delivered(message_id=message_id, error="This inbox is switched off.")
        return False
    adapter = adapter_for(message.inbox)
    try:
        provider_id = adapter.send(message)
    except (DeliveryError, *DELIVERY_ERRORS) as error:
        services.message_delivered(message_id=message_id, error=str(error) or repr(error))
        logger.warning("Reply %s was not sent: %s", message_id, error)
        return False
    except Exception as error:
        services.message_delivered(message_id=message_id, error=str(error) or repr(error))
        raise
    services.message_delivered(
        message_id=message_id, provider_message_id=provider_id, headers=adapter.sent_headers
    )
    return True


def conversation_auto_assign(*, conversation_id: int) -> int | None:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    assignee = services.conversation_auto_assign(conversation=conversation)
    return assignee.pk if assignee is not None else None


def mail_fetch(*, inbox_id: int | None = None) -> dict[int, FetchResult]:
    """Read every active e-mail inbox (or one); the result per inbox id."""
    inboxes = Inbox.objects.filter(kind=Inbox.Kind.EMAIL, is_active=True, email__isnull=False)
    if inbox_id is not None:
        inboxes = inboxes.filter(pk=inbox_id)
    results = {}
    for inbox in inboxes.select_related("brand", "location", "email").order_by("pk"):
        results[inbox.pk] = adapter_for(inbox).fetch()
    return results
