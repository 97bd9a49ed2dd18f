"""The web chat channel: the visitor's widget reads replies from the conversation itself
(`inbox.widget`), so "sending" only marks the reply as handed over."""

from opencx.inbox.models import Message

from . import ChannelAdapter


class WebChatAdapter(ChannelAdapter):
    kind = "web_chat"

    def send(self, message: Message) -> str:
        return f"ocx-{message.pk}"  # the widget lists it on its next poll
