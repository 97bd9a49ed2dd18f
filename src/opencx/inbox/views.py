from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page, page_or_partial

from . import selectors
from .models import Conversation

PAGE_SIZE = 50
TAB_LABELS = {**dict(Conversation.Status.choices), "all": "All"}


@brand_page
@require_safe
def conversation_list(request):
    actor, location = request.actor, request.current_location
    status = request.GET.get("status", "open")
    status = status if status in selectors.STATUS_TABS else "open"
    channels = list(selectors.channels_visible_to(actor))
    channel = request.GET.get("channel", "")
    channel_id = int(channel) if channel.isdigit() else None
    if channel_id not in {c.pk for c in channels}:
        channel_id = None
    assignee = request.GET.get("assignee", "")
    if not (assignee == selectors.UNASSIGNED or assignee.isdigit()):
        assignee = ""
    counts = selectors.conversation_status_counts(
        actor, location=location, channel_id=channel_id, assignee=assignee
    )
    conversations = selectors.conversation_list(
        actor, location=location, status=status, channel_id=channel_id, assignee=assignee
    )
    page = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    return page_or_partial(
        request,
        "inbox/conversation_list.html",
        {
            "page": page,
            "tabs": [(tab, TAB_LABELS[tab], counts[tab]) for tab in selectors.STATUS_TABS],
            "status": status,
            "channels": channels,
            "assignees": selectors.assignees_visible_to(actor),
            "filters": {"channel": channel_id, "assignee": assignee},
            "unassigned": selectors.UNASSIGNED,
        },
        partial="results",
    )


@brand_page
@require_safe
def conversation_detail(request, pk):
    conversation = selectors.conversation_get(request.actor, pk=pk)
    return render(
        request,
        "inbox/conversation_detail.html",
        {
            "conversation": conversation,
            "thread": conversation.messages.all(),
        },
    )
