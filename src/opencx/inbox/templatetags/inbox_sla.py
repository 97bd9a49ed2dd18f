"""`{% load inbox_sla %}`: the queue's service-level badge of a conversation."""

from django import template

from opencx.inbox.sla import warning_of

register = template.Library()


@register.inclusion_tag("inbox/_sla_badge.html")
def sla_badge(conversation):
    warning = warning_of(conversation)
    return {"state": warning[0] if warning else "", "target": warning[1] if warning else ""}
