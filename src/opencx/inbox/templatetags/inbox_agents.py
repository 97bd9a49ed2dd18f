"""`{% my_availability as me %}`: the signed-in member's own agent row (available, capacity,
open_now), or None when they may not reply; read by `inbox/_availability.html`, so the queue
page includes the toggle with one line and its view stays as it is."""

from django import template

from .. import agents

register = template.Library()


@register.simple_tag(takes_context=True)
def my_availability(context):
    request = context.get("request")
    actor = getattr(request, "actor", None)
    return agents.my_availability(actor) if actor is not None else None
