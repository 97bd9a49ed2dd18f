from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from opencx.platform.errors import AppError
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page, page_or_partial

from . import live, organise_views, selectors, services
from .models import Conversation

# As Chatwoot's list: a screenful; the queue is redrawn on every live change, so rows cost.
PAGE_SIZE = 25
TAB_LABELS = {**dict(Conversation.Status.choices), "all": "All"}
# What a row draws of its related rows (conversation_list.html), not all their columns.
ROW_RELATED_FIELDS = (
    "contact__name",
    "channel__name",
    "location__name",
    *(f"assignee__{field}" for field in organise_views.PERSON_FIELDS if field != "id"),
)


@dataclass
class Queue:
    """A queue page as the request's address asks for it (status tab, filters, page)."""

    tools: organise_views.QueueTools
    status: str
    channels: list
    channel_id: int | None
    assignee: str
    counts: dict[str, int]
    page: Page
    version: str  # live.rows_version of the page's rows

    def live_state(self) -> dict:
        """What the page's live updates poll: its tab counts and its rows' fingerprint."""
        return {"version": self.version, "counts": self.counts}


def queue_of(request, *, rows_only: bool = False) -> Queue:
    """The queue for `request.GET`: the tab counts (one aggregate), the page of rows and their
    fingerprint. `rows_only` (the live poll) reads only the fields the fingerprint needs."""
    actor, location = request.actor, request.current_location
    tools = organise_views.QueueTools(request)  # labels, teams, inboxes, search, saved views
    more = tools.filters
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
        actor, location=location, channel_id=channel_id, assignee=assignee, more=more
    )
    conversations = selectors.conversation_list(
        actor,
        location=location,
        status=status,
        channel_id=channel_id,
        assignee=assignee,
        more=more,
    )
    if rows_only:
        conversations = conversations.select_related(None).only(*live.ROW_FIELDS)
    else:
        conversations = conversations.only(*live.ROW_FIELDS, *ROW_RELATED_FIELDS)
    paginator = Paginator(conversations, PAGE_SIZE)
    paginator.count = counts[status]  # the tab's count, already known: no COUNT(*) again
    page = paginator.get_page(request.GET.get("page"))
    return Queue(
        tools, status, channels, channel_id, assignee, counts, page, live.rows_version(page)
    )


def queue_live_state(request) -> dict:
    """`Queue.live_state` of the request's page, shared for a second by everyone who sees the
    same page."""
    return live.page_state(
        _live_key(request), lambda: queue_of(request, rows_only=True).live_state()
    )


def _live_key(request) -> str:
    return live.page_key(request.actor, request.current_location, request.GET.items())


@brand_page
@require_safe
def conversation_list(request):
    if (saved_view := organise_views.saved_view_redirect(request)) is not None:
        return saved_view
    queue = queue_of(request)
    # The polls of this page start from what it shows: share it with them.
    live.page_state(_live_key(request), queue.live_state, fresh=True)
    return page_or_partial(
        request,
        "inbox/conversation_list.html",
        {
            "page": queue.page,
            "tabs": [(tab, TAB_LABELS[tab], queue.counts[tab]) for tab in selectors.STATUS_TABS],
            "status": queue.status,
            "channels": queue.channels,
            "assignees": selectors.assignees_visible_to(request.actor).only(
                *organise_views.PERSON_FIELDS
            ),
            "filters": {"channel": queue.channel_id, "assignee": queue.assignee},
            "unassigned": selectors.UNASSIGNED,
            "queue_version": queue.version,
            # A conversation's page is <the queue>/<id>/ (urls.py): reversed once, not per row.
            "queue_url": reverse("inbox:list", args=[request.actor.brand.slug]),
            **queue.tools.context(),
        },
        partial="results",
    )


def _detail_page(request, conversation, *, error: AppError | None = None, form=None, status=200):
    actor = request.actor
    return render(
        request,
        "inbox/conversation_detail.html",
        {
            "conversation": conversation,
            "thread": conversation.messages.all(),
            "can_reply": actor.can(Capability.REPLY),
            "assignees": selectors.conversation_assignees(actor, location=conversation.location)
            if actor.can(Capability.REPLY)
            else [],
            "moves": [
                (to, Conversation.Status(to).label)
                for to in Conversation.Status.values
                if to in services.TRANSITIONS[conversation.status]
            ],
            "can_snooze": Conversation.Status.SNOOZED in services.TRANSITIONS[conversation.status],
            "priorities": Conversation.Priority.choices,
            "error": error,
            "form": form or {},
        },
        status=status,
    )


def _snooze_until(request, conversation) -> datetime | None:
    raw = request.POST.get("snooze_until", "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise AppError("Give a date and time.", field="snooze_until") from None
    if moment.tzinfo is None:  # the browser's datetime-local is the location's wall clock
        moment = moment.replace(tzinfo=ZoneInfo(conversation.location.timezone or "UTC"))
    return moment


def _reply(request, conversation) -> str:
    private = request.POST.get("private") == "on"
    services.message_send(
        actor=request.actor,
        conversation=conversation,
        body=request.POST.get("body", ""),
        private=private,
    )
    return "Note added." if private else "Reply queued."


def _transition(request, conversation) -> str:
    to = request.POST.get("to", "")
    services.conversation_transition(
        actor=request.actor,
        conversation=conversation,
        to=to,
        snooze_until=_snooze_until(request, conversation) if to == "snoozed" else None,
    )
    return f"The conversation is now {Conversation.Status(to).label.lower()}."


def _assign(request, conversation) -> str:
    raw = request.POST.get("assignee", "")
    assignee = None
    if raw:
        people = selectors.conversation_assignees(request.actor, location=conversation.location)
        assignee = people.filter(pk=int(raw)).first() if raw.isdigit() else None
        if assignee is None:
            raise AppError("That person cannot answer conversations here.", field="assignee")
    services.conversation_assign(actor=request.actor, conversation=conversation, assignee=assignee)
    return f"Assigned to {assignee}." if assignee else "Unassigned."


def _priority(request, conversation) -> str:
    priority = request.POST.get("priority", "")
    services.conversation_set_priority(
        actor=request.actor, conversation=conversation, priority=priority
    )
    return f"Priority: {Conversation.Priority(priority).label.lower()}."


ACTIONS = {
    "reply": _reply,
    "transition": _transition,
    "assign": _assign,
    "priority": _priority,
}


@brand_page
def conversation_detail(request, pk):
    """The thread and its customer; agents reply, add notes, move, assign and prioritise it
    here (POST with `action`)."""
    actor = request.actor
    conversation = selectors.conversation_get(actor, pk=pk)
    if request.method in ("GET", "HEAD"):
        return _detail_page(request, conversation)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.REPLY)
    handler = ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        raise AppError("Unknown action.", field="action")
    try:
        message = handler(request, conversation)
    except AppError as error:
        if error.status in (403, 404):
            raise
        conversation = selectors.conversation_get(actor, pk=pk)
        return _detail_page(
            request, conversation, error=error, form=request.POST, status=error.status
        )
    messages.success(request, message)
    return redirect(reverse("inbox:detail", args=[actor.brand.slug, conversation.pk]))
