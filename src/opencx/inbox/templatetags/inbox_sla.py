"""`{% load inbox_sla %}`: a conversation's service-level badge (the queue's rows draw it
through `inbox_tools.queue_rows`)."""

from django import template
from django.utils.html import format_html

from opencx.inbox.sla import warning_of

register = template.Library()

# Built in Python, not an included template: the queue draws one per row.
_BADGES = {
    "overdue": (
        ' <span class="badge bad sla-overdue" title="Service level missed">{} overdue</span>'
    ),
    "due_soon": (
        ' <span class="badge sla-due-soon" title="Due within 30 minutes">{} due soon</span>'
    ),
}


@register.simple_tag
def sla_badge(conversation):
    warning = warning_of(conversation)
    if warning is None:
        return ""
    state, target = warning
    return format_html(_BADGES[state], target)
