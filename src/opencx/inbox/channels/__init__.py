"""Channel adapters: how a message reaches the customer, and how new ones are read in.

One module per inbox kind. Each adapter wraps one inbox and offers `send(message)` (returns the
provider's id for the message) and, where the channel is polled, `fetch()`. Adapters raise
`DeliveryError` for a send that failed in a way worth recording (the task records it).
"""

from opencx.inbox.models import Inbox, Message


class DeliveryError(Exception):
    """The channel refused or could not take the message."""


class ChannelAdapter:
    kind: str = ""

    def __init__(self, inbox: Inbox):
        self.inbox = inbox
        # What the last `send` put on the wire (addresses, threading), recorded on the message.
        self.sent_headers: dict = {}

    def send(self, message: Message) -> str:
        """Hand `message` to the channel; the provider's id for it ('' if it has none)."""
        raise DeliveryError(f"{self.inbox.get_kind_display()} inboxes cannot send yet.")

    def fetch(self):
        raise NotImplementedError(f"{self.inbox.get_kind_display()} inboxes are not polled.")


def adapter_for(inbox: Inbox) -> ChannelAdapter:
    from .api import ApiAdapter
    from .email import EmailAdapter
    from .web_chat import WebChatAdapter

    adapters = {Inbox.Kind.EMAIL: EmailAdapter, Inbox.Kind.API: ApiAdapter}
    adapters[Inbox.Kind.WEB_CHAT] = WebChatAdapter
    from .google_reviews import GoogleReviewsAdapter
    from .meta import MetaAdapter
    from .sms import SmsAdapter

    adapters[Inbox.Kind.SMS] = SmsAdapter
    adapters[Inbox.Kind.FACEBOOK] = adapters[Inbox.Kind.INSTAGRAM] = MetaAdapter
    adapters[Inbox.Kind.GOOGLE_REVIEWS] = GoogleReviewsAdapter
    return adapters.get(inbox.kind, ChannelAdapter)(inbox)
