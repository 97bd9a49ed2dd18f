"""`{% inbox_queue_version %}`: the queue's fingerprint when the page was drawn, so the page's
live updates notice a change that came before their first poll."""

from django import template

from opencx.inbox import live

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_queue_version(context) -> str:
    if version := context.get("queue_version"):  # the queue view drew it already
        return version
    request = context["request"]
    return live.queue_state(request.actor, location=request.current_location)["version"]


@register.simple_tag
def inbox_conversation_version(conversation) -> str:
    return live.conversation_version(conversation)
