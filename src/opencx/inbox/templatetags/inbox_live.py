"""`{% inbox_conversation_version conversation %}`: the conversation's fingerprint when its page
was drawn, so the page's live updates notice a change that came before their first poll."""

from django import template

from opencx.inbox import live

register = template.Library()


@register.simple_tag
def inbox_conversation_version(conversation) -> str:
    return live.conversation_version(conversation)
