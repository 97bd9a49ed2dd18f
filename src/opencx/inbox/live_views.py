"""The agent view's live updates: JSON the inbox pages poll (`static/inbox/live.js`).

Polling, not server-sent events: the app runs under gunicorn's threaded workers, where a held
connection per open agent page would use up the threads; a poll is one query and returns at
once. The queue polls its tab counts and its rows' fingerprint, and reloads its list fragment only
when the rows changed.
"""

from django.http import JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from opencx.platform.errors import AppError
from opencx.ui.brand_views import brand_page

from . import live, views

POLL_MS = 3000


@brand_page
@require_safe
def queue_state(request):
    """The queue page's (the same query string) tab counts and rows' fingerprint."""
    state = views.queue_live_state(request)
    return JsonResponse({**state, "poll_ms": POLL_MS}, headers={"Cache-Control": "no-store"})


@brand_page
@require_safe
def conversation_updates(request, pk):
    """Messages after `after` (an id), drawn as on the page, and the conversation's version."""
    after = request.GET.get("after", "0")
    if not (after.isascii() and after.isdigit() and len(after) <= 12):
        raise AppError("Give after as a message id.", field="after")
    conversation = live.live_conversation(request.actor, pk=pk)
    messages = list(live.messages_after(conversation, after=int(after)))
    html = [
        render_to_string(
            "inbox/conversation_detail.html#message",
            {"message": message, "conversation": conversation},
            request=request,
        )
        for message in messages
    ]
    return JsonResponse(
        {
            "messages": [{"id": m.pk, "html": h} for m, h in zip(messages, html, strict=True)],
            "version": live.conversation_version(conversation),
            "poll_ms": POLL_MS,
        },
        headers={"Cache-Control": "no-store"},
    )
