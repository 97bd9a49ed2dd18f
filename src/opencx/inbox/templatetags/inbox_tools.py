"""Agent tools drawn inside the conversation and queue pages, each by one tag, so those pages
include them with one line and their views stay as they are:

{% customer_panel conversation %}  the customer across channels (+ "same customer as…")
{% conversation_organise conversation %}  labels and team
{% canned_picker conversation %}  canned replies for the reply box
{% queue_tools %}  saved views, extra filters and bulk actions of the queue
{% person_options people selected me %}  a <select>'s options, one per person
{% queue_rows conversations queue_url can_work %}  the queue's table rows
"""

from django import template
from django.db.models import Exists, OuterRef
from django.template.defaultfilters import date, timesince_filter
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from opencx.platform.roles import Capability

from .. import canned, organise
from .. import customer_panel as panels
from ..models import Conversation
from .inbox_sla import sla_badge

register = template.Library()


_SELECTED = mark_safe(" selected")  # noqa: S308 (a constant)


@register.simple_tag
def person_options(people, selected="", me=None) -> str:
    """`<option>`s for people (value: their id; "(me)" after `me`; `selected` is the chosen id,
    as the query string has it). The queue draws two lists of every agent on each load: in
    Python they cost a tenth of a template loop."""
    selected, me_pk = str(selected or ""), getattr(me, "pk", None)
    return format_html_join(
        "",
        '<option value="{}"{}>{}{}</option>',
        (
            (
                person.pk,
                _SELECTED if str(person.pk) == selected else "",
                person,
                " (me)" if person.pk == me_pk else "",
            )
            for person in people
        ),
    )


_ROW = (
    "<tr>{}"
    '<td><a href="{}{}/">{}</a></td>'
    "<td>{}</td><td>{}</td><td>{}</td>"
    '<td><span class="badge{}">{}</span>{}</td>'
    '<td><span class="badge priority-{}">{}</span></td>'
    "<td>{}</td><td>{}</td></tr>\n"
)
_TICK = '<td><input type="checkbox" name="ids" value="{}" form="bulk" aria-label="Select {}"></td>'
_STATUSES = dict(Conversation.Status.choices)
_PRIORITIES = dict(Conversation.Priority.choices)


@register.simple_tag
def queue_rows(conversations, queue_url: str, can_work: bool = False) -> str:
    """The queue table's rows (conversation_list.html; `queue_url`: a conversation's page is
    <queue_url><id>/; `can_work`: a tick box for bulk actions). The queue is drawn again on
    every live change: in Python a row costs a fraction of the template loop's ~1,200 calls."""
    resolved = Conversation.Status.RESOLVED
    return mark_safe(  # noqa: S308 (every value is escaped by format_html)
        "".join(
            format_html(
                _ROW,
                format_html(_TICK, c.pk, c) if can_work else "",
                queue_url,
                c.pk,
                c,
                (c.contact.name if c.contact_id else "") or "Unknown",
                c.channel.name,
                c.location.name,
                " good" if c.status == resolved else "",
                _STATUSES.get(c.status, c.status),
                sla_badge(c),
                c.priority,
                _PRIORITIES.get(c.priority, c.priority),
                c.assignee if c.assignee_id else "Unassigned",
                _since(c, resolved),
            )
            for c in conversations
        )
    )


def _since(conversation: Conversation, resolved: str) -> str:
    if conversation.waiting_since and conversation.status != resolved:
        waiting = conversation.waiting_since
        return format_html(
            'waiting <time datetime="{}">{}</time>',
            date(template_localtime(waiting), "c"),
            timesince_filter(waiting),
        )
    if conversation.first_reply_at:
        return format_html(
            "first response in {}",
            timesince_filter(conversation.created_at, conversation.first_reply_at),
        )
    return "no reply yet"


def _render(context, name: str, values: dict) -> str:
    request = context["request"]
    return mark_safe(render_to_string(f"inbox/{name}", values, request=request))  # noqa: S308


@register.simple_tag(takes_context=True)
def customer_panel(context, conversation: Conversation) -> str:
    actor = context["request"].actor
    return _render(
        context,
        "_customer_panel.html",
        {
            "conversation": conversation,
            "panel": panels.customer_panel(actor, conversation=conversation),
            "can_merge": actor.can(Capability.REPLY) and conversation.contact_id is not None,
        },
    )


@register.simple_tag(takes_context=True)
def conversation_organise(context, conversation: Conversation) -> str:
    actor = context["request"].actor
    carried = Conversation.labels.through.objects.filter(
        conversation_id=conversation.pk, label_id=OuterRef("pk")
    )
    labels = list(organise.labels_of(actor).annotate(on=Exists(carried)))
    on = [label for label in labels if label.on]
    can_work = actor.can(Capability.REPLY)
    return _render(
        context,
        "_conversation_organise.html",
        {
            "conversation": conversation,
            "conversation_labels": on,
            "other_labels": [label for label in labels if not label.on] if can_work else [],
            "teams": organise.teams_of(actor) if can_work else [],
            "can_work": can_work,
        },
    )


@register.simple_tag(takes_context=True)
def canned_picker(context, conversation: Conversation) -> str:
    actor = context["request"].actor
    if not actor.can(Capability.REPLY):
        return ""
    return _render(
        context,
        "_canned_picker.html",
        {"conversation": conversation, "replies": canned.canned_replies_of(actor)},
    )
